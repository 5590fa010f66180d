"""The bundle's entry point: the same `hearth` command, double-clicked or run from a terminal."""

from assistant.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
