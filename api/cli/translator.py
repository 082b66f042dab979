"""`mgkg export --format kgx-tsv|kgx-jsonl|sssom`: the graph in the formats Translator tools merge."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

from rich.markup import escape

from api.cli._app import err_console, fail
from kg.errors import SourceSyntaxError

TRANSLATOR_FORMATS: Final = ("kgx-tsv", "kgx-jsonl", "sssom")
"""The --format values `mgkg export` hands to this module."""


def export_translator(fmt: str, output: Path | None) -> None:
    """Write KGX nodes and edges (two files, ``-o`` is their prefix) or the SSSOM TSV (stdout without -o).

    KGX goes to ``<prefix>_nodes.<tsv|jsonl>`` and ``<prefix>_edges.<tsv|jsonl>`` (``-o build/mgkg``); a
    suffix on ``-o`` is dropped. Only the asserted graph is read: no reasoning is needed for either.
    """
    from kg.causal.network import build_network
    from kg.graph.asserted import load_asserted

    try:
        asserted = load_asserted()
    except SourceSyntaxError as error:
        raise fail(error, code=2) from error
    if fmt == "sssom":
        from kg.translator.sssom import export_sssom

        text = export_sssom(asserted.graph)
        if output is None:
            sys.stdout.write(text)
            return
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {escape(str(output))} (sssom)", highlight=False)
        return
    if output is None:
        raise fail("KGX is two files (nodes and edges): give -o PREFIX, e.g. -o build/mgkg.", code=2)
    from kg.translator.kgx import KgxFormat, export_kgx
    from kg.translator.view import BiolinkView

    serialisation: KgxFormat = "jsonl" if fmt == "kgx-jsonl" else "tsv"
    view = BiolinkView(build_network(asserted.graph), asserted.graph)
    prefix = output.with_suffix("") if output.suffix in (".tsv", ".jsonl") else output
    for part, text in zip(("nodes", "edges"), export_kgx(view, serialisation), strict=True):
        path = prefix.with_name(f"{prefix.name}_{part}.{serialisation}")
        path.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {escape(str(path))} (KGX {part}, {serialisation})", highlight=False)
