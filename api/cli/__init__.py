"""The `mgkg` command line: a thin layer over the library functions, one module per area."""

from importlib import import_module

from api.cli._app import app

__all__ = ["app", "main"]

# Importing a module registers its commands on `app`; this order is the order of `mgkg --help`.
for _area in ("why", "causes", "case", "knowledge", "export", "service"):
    import_module(f"api.cli.{_area}")


def main() -> None:
    """Entry point of the `mgkg` console script."""
    app()
