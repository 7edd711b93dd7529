"""Starting a real ``heihachi serve`` in a subprocess for the server tests and the bench."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """``python -m heihachi serve`` on a free loopback port; ``kill()`` is a SIGKILL."""

    def __init__(self, data: Path, *args: str, env: dict[str, str] | None = None,
                 port: int | None = None) -> None:
        self.data = data
        self.args = args
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", **(env or {}))
        self.proc: subprocess.Popen | None = None
        self.log = data.parent / f"{data.name}-server.log"

    def start(self, timeout: float = 120.0) -> LiveServer:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "heihachi", "serve", "--data", str(self.data),
                 "--port", str(self.port), *self.args], cwd=ROOT, env=self.env,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start in {timeout} s:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the server process only; its workers die with it (PDEATHSIG)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def wait_workers_gone(self, timeout: float = 30.0) -> None:
        """Wait until no worker of a killed server holds its data directory any more."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run(["pgrep", "-f", f"heihachi.serve.worker {self.data} "],
                                 capture_output=True, text=True).stdout.split()
            if not out:
                return
            time.sleep(0.2)
        raise RuntimeError(f"workers of {self.data} still alive after the server died")
