"""Print the largest modules and classes; with --check, fail on any over the limits.

Limits: a module over 500 lines or a class over 250 lines fails the check unless it
says why it must stay whole: ``# size-exempt: <reason>`` in the module's first ten
lines, or on the line right above the ``class`` statement.

    python .ci/sizes.py [--top 10] [--check]
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIRS = ("heihachi", "plugins", "heihachi_train", "bench", "tests", "examples")
MODULE_LIMIT, CLASS_LIMIT = 500, 250
EXEMPT = "# size-exempt:"


def measure(root: Path = ROOT) -> tuple[list[tuple[int, str, bool]], list[tuple[int, str, bool]]]:
    """(lines, name, exempt) for every module and every class under :data:`DIRS`."""
    modules, classes = [], []
    for d in DIRS:
        for path in sorted((root / d).rglob("*.py")):
            if any(part.startswith(".") for part in path.relative_to(root).parts):
                continue
            text = path.read_text(encoding="utf-8")
            lines = text.splitlines()
            rel = str(path.relative_to(root))
            modules.append((len(lines), rel, any(EXEMPT in ln for ln in lines[:10])))
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.ClassDef):
                    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    n = node.end_lineno - first + 1
                    above = lines[first - 2] if first >= 2 else ""
                    classes.append((n, f"{rel}::{node.name}", EXEMPT in above))
    return sorted(modules, reverse=True), sorted(classes, reverse=True)


def violations(root: Path = ROOT) -> list[str]:
    modules, classes = measure(root)
    bad = [f"module {name}: {n} lines (> {MODULE_LIMIT})" for n, name, ok in modules
           if n > MODULE_LIMIT and not ok]
    bad += [f"class {name}: {n} lines (> {CLASS_LIMIT})" for n, name, ok in classes
            if n > CLASS_LIMIT and not ok]
    return bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    modules, classes = measure()
    print(f"largest modules (limit {MODULE_LIMIT} lines):")
    for n, name, ok in modules[:args.top]:
        print(f"  {n:5d}  {name}{'  (exempt)' if ok else ''}")
    print(f"largest classes (limit {CLASS_LIMIT} lines):")
    for n, name, ok in classes[:args.top]:
        print(f"  {n:5d}  {name}{'  (exempt)' if ok else ''}")
    bad = violations()
    for b in bad:
        print(f"too large: {b}; split it, or say why it must stay whole ({EXEMPT} ...)",
              file=sys.stderr)
    return 1 if (bad and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
