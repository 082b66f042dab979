"""The one exception hierarchy: kg/errors.py draws every MgkgError subclass with its parent and package."""

from __future__ import annotations

import importlib
import pkgutil
import re

import api
import kg

TREE_LINE = re.compile(
    r"^(?P<indent>[ │├└─]*)(?P<name>[A-Z]\w*(?:Error|Exception))\s+(?P<package>kg(?:\.\w+)?)\b"
)


def documented_tree() -> dict[str, tuple[str, str | None]]:
    """The hierarchy drawn in kg/errors.py's docstring: each class with its package and its parent."""
    from kg import errors

    documented: dict[str, tuple[str, str | None]] = {}
    parents: list[tuple[int, str]] = []  # (column of the name, name) of the branches still open
    for line in (errors.__doc__ or "").splitlines():
        if line.strip() == "MgkgError":
            parents = [(line.index("M"), "MgkgError")]
            documented["MgkgError"] = ("kg.errors", None)
            continue
        match = TREE_LINE.match(line)
        if match is None or not parents:
            continue
        column = len(match.group("indent"))
        while parents and parents[-1][0] >= column:
            parents.pop()
        documented[match.group("name")] = (match.group("package"), parents[-1][1] if parents else None)
        parents.append((column, match.group("name")))
    return documented


def test_the_errors_docstring_draws_the_whole_hierarchy() -> None:
    from kg.errors import MgkgError

    for root in (kg, api):
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{root.__name__}."):
            importlib.import_module(info.name)  # every subclass of MgkgError defined, wherever it lives
    found: dict[str, type[BaseException]] = {}
    pending: list[type[BaseException]] = [MgkgError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    documented = documented_tree()
    missing = sorted(set(found) - set(documented))
    assert missing == [], f"add these to the tree in kg/errors.py's docstring: {missing}"
    for name, (package, parent) in documented.items():
        assert name in found, f"kg/errors.py's docstring names {name}, which is not an MgkgError"
        cls = found[name]
        assert cls.__module__ == package or cls.__module__.startswith(f"{package}."), name
        if parent is not None:
            assert cls.__bases__[0].__name__ == parent, name
    assert documented["SparqlSyntaxError"][1] == "SparqlError"  # the drawing is read as a tree
    assert documented["UnknownNodeError"][1] == "MgkgError"
