"""Heihachi: neural audio models as plugins over music collections.

Importing this package is cheap: torch, transformers and FAISS load only when a
plugin or the runtime needs them.
"""

from heihachi.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["__version__", "hookimpl"]
