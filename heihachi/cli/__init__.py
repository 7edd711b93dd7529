"""The ``heihachi`` command line; ``main`` is the console entry point."""

from heihachi.cli.app import cli, main

__all__ = ["cli", "main"]
