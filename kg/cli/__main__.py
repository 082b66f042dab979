"""`python -m kg.cli`: the same as the `mgkg` command."""

from kg.cli import main

if __name__ == "__main__":
    main()
