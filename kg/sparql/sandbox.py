"""The SPARQL workers' egress sandbox: a seccomp filter that denies every socket but a Unix one.

Why seccomp (libseccomp through ``pyseccomp``) rather than Landlock: Landlock's network rules (ABI 4,
Linux 6.7) cover TCP bind and connect only, so UDP (a DNS query is enough to leak data), raw and
netlink sockets would stay open; a seccomp filter on ``socket()`` covers every address family, has
worked unprivileged since Linux 3.5, and is installed by the process on itself before it opens the
store. The filter makes ``socket()`` and ``socketpair()`` fail with EACCES for every family but
``AF_UNIX`` (AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, ... alike) and ``io_uring_setup()`` fail with
EPERM (an io_uring can create sockets without the ``socket()`` call a filter sees). The worker talks
to its parent over inherited pipes, which the filter leaves alone. Oxigraph's SERVICE client then gets
"Permission denied" and the query fails (SERVICE SILENT answers as if the service had no answer).

This module imports only the standard library (``pyseccomp`` lazily), because the worker, a plain
script, loads it by path. Where the platform offers no seccomp (not Linux, no libseccomp, a kernel or
container that refuses the filter) :func:`deny_network` returns False and the worker says so in its
ready frame; the service then logs a warning and /health reports ``"egress_sandbox": false``.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import sys


def deny_network() -> bool:
    """Install the filter in this process (and the threads and children it starts later).

    Returns True when the filter is installed, False when the platform cannot install it. Irreversible
    by design: a process can only add filters to itself, never remove one.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        import pyseccomp as seccomp

        denied = seccomp.SyscallFilter(seccomp.ALLOW)  # a call of another ABI (i386, x32) kills the process
        with contextlib.suppress(Exception):  # every thread, should one exist yet (none does in the worker)
            denied.set_attr(seccomp.Attr.CTL_TSYNC, 1)
        for call in ("socket", "socketpair"):
            denied.add_rule(seccomp.ERRNO(errno.EACCES), call, seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        denied.add_rule(seccomp.ERRNO(errno.EPERM), "io_uring_setup")
        denied.load()
    except Exception:  # no binding, no libseccomp, or a kernel that refuses: the caller reports False
        return False
    return network_denied()


def network_denied() -> bool:
    """Whether this process is unable to create an internet socket (measured, not assumed).

    >>> isinstance(network_denied(), bool)
    True
    """
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    except PermissionError:
        return True
    probe.close()
    return False
