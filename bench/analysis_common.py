"""What the analysis benches share: running ``heihachi process`` over a folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_process(folder: Path, out: Path, tasks: str) -> None:
    """``heihachi process FOLDER -o OUT process.tasks=[TASKS]`` (JSON only, no report);
    exits with its error when it fails."""
    cmd = [sys.executable, "-m", "heihachi", "process", str(folder), "-o", str(out), "-q",
           f"process.tasks=[{tasks}]", "output.formats=[json]", "process.report=false"]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"heihachi process failed ({res.returncode}): {res.stderr[-2000:]}")
