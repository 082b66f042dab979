"""Run the `kgx` command offline in its own environment: Biolink from the biolink-model package, no sockets.

kgx 2.6 builds a bmt Toolkit at import time from the Biolink schema on GitHub and fetches Biolink's JSON-LD
context on first use; this script makes both read the biolink-model package installed beside kgx, and
refuses every network connection so that a fetch nobody patched fails loudly instead of passing by. A
graph's own CURIE prefixes (not Biolink's) are added to the context from the JSON object in the
KGX_EXTRA_PREFIXES environment variable. Usage: ``python offline_kgx.py validate -i tsv NODES EDGES``.
Run by tests/integration/test_translator_export.py with the venv's Python (.ci/run makes the venv).
"""

from __future__ import annotations

import json
import os
import sys
from importlib import resources
from typing import Any


def _refuse_network(event: str, args: tuple[Any, ...]) -> None:
    if event in {"socket.connect", "socket.getaddrinfo"}:
        raise OSError(f"offline kgx: refused {event} {args[1] if event == 'socket.connect' else args[0]}")


def main() -> None:
    """Patch bmt and kgx to read local files, then hand the command line to kgx."""
    sys.addaudithook(_refuse_network)
    import bmt.toolkit

    biolink = resources.files("biolink_model")
    schema = str(biolink / "schema" / "biolink_model.yaml")
    stock_init = bmt.toolkit.Toolkit.__init__

    def offline_init(self: bmt.toolkit.Toolkit, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("schema", None)
        kwargs.pop("predicate_map", None)
        stock_init(self, schema, predicate_map={"predicate mappings": []}, **kwargs)

    bmt.toolkit.Toolkit.__init__ = offline_init

    import kgx.config

    prefixes = json.loads((biolink / "prefixmaps" / "biolink_model_prefix_map.json").read_text())
    prefixes.update(json.loads(os.environ.get("KGX_EXTRA_PREFIXES", "{}")))
    kgx.config.jsonld_context_map.update(biolink=prefixes, monarch_context={}, obo_context={})

    from kgx.cli import cli

    sys.exit(cli())


if __name__ == "__main__":
    main()
