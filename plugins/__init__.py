"""Heihachi's built-in plugins, registered through the same hooks as third-party ones.

Each module here must stay cheap to import: torch and model libraries load
inside methods, so ``python -m heihachi --help`` and ``plugins`` stay fast.
"""
