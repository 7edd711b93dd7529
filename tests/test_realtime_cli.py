"""``hf realtime-beats`` through the real CLI (issue 18): sources, outputs, errors, Ctrl-C.

These run the command with ``MetronomeTracker``, a FAKE tracker of known beats (see
tests/realtime_support.py), in place of the model: they check the command's plumbing,
pacing and outputs; the shipped tracker's own accuracy is tested where it is built.
Runs needing a real pipe or a signal use a process of their own
(``python tests/realtime_support.py ARGS``: the real ``main()`` with the fake tracker).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import run_heihachi
from realtime_support import MidiReceiver, fake_factory, grid, render_clicks

ROOT = Path(__file__).resolve().parent.parent
SUPPORT = ROOT / "tests" / "realtime_support.py"


def _clip(tmp_path: Path, beats: list[float], seconds: float, sr: int = 44100,
          channels: int = 2, name: str = "clip.wav") -> Path:
    path = tmp_path / name
    sf.write(path, render_clicks(beats, seconds, sr, channels), sr)
    return path


def _lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _support(args: list[str], beats: str = "120,0.25,1000", **kw: object) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HEIHACHI_TEST_BEATS=beats,
               HF_HUB_OFFLINE="1")
    return subprocess.Popen([sys.executable, str(SUPPORT), *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)



def test_fast_file_to_ndjson_click_midi_and_osc_at_once(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import ThreadingOSCUDPServer

    beats = grid(174, 0.2, 20)
    clip = _clip(tmp_path, beats, 7.0)
    make = fake_factory(beats)
    monkeypatch.setattr("heihachi.cli.realtime.make_tracker", make)
    midi = MidiReceiver()
    osc: list[str] = []
    dispatcher = Dispatcher()
    dispatcher.set_default_handler(lambda address, *args: osc.append(address))
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        t0 = time.monotonic()
        r = run_heihachi("hf", "realtime-beats", "--input", str(clip), "--fast",
                         "--click-out", str(tmp_path / "out" / "click.wav"),
                         "--midi-port", f"tcp:127.0.0.1:{midi.port}",
                         "--osc", f"127.0.0.1:{server.server_address[1]}")
        wall = time.monotonic() - t0
        deadline = time.monotonic() + 5
        while len(osc) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        server.shutdown()
        server.server_close()
    assert r.returncode == 0, r.stderr
    assert wall < 5.0  # 7 s of audio, not paced
    events = _lines(r.stdout)
    assert [e["t"] for e in events] == pytest.approx(beats, abs=1e-4)
    assert all(e["bpm"] == pytest.approx(174, abs=0.01) for e in events)
    tracker = make.made[0]
    assert tracker.sample_rate == 44100
    assert set(tracker.blocks[:-1]) == {(512, 2)}  # stereo blocks of --block frames
    assert sum(b[0] for b in tracker.blocks) == 7 * 44100
    audio, sr = sf.read(tmp_path / "out" / "click.wav")
    assert sr == 44100 and audio.shape == (7 * 44100, 2)
    types = midi.types()
    assert types[0] == "start" and types[-1] == "stop" and types.count("clock") > 24 * 17
    assert osc.count("/beat") == 20 and osc.count("/bpm") == 20
    assert "20 beats" in r.stderr and "7.00 s of audio" in r.stderr


def test_stdin_raw_pcm_through_a_pipe_with_a_partial_trailing_frame(tmp_path: Path) -> None:
    beats = grid(140, 0.3, 8)
    audio = render_clicks(beats, 4.0, 16000, channels=2)
    raw = (audio * 32767).astype("<i2").tobytes() + b"\x07"  # half a sample left over
    proc = _support(["--stdin", "--rate", "16000", "--channels", "2", "--block", "256"],
                    beats="140,0.3,8", stdin=subprocess.PIPE)
    out, err = proc.communicate(raw, timeout=120)
    assert proc.returncode == 0, err.decode()
    events = _lines(out.decode())
    assert [e["t"] for e in events] == pytest.approx(beats, abs=1e-4)
    # the fake decides 0.05 s after each beat, at the end of a 256-frame block
    assert all(0.05 <= e["emitted_at"] - e["t"] <= 0.05 + 256 / 16000 + 1e-4 for e in events)
    assert "partial trailing frame (1 bytes)" in err.decode()
    assert "4.00 s of audio" in err.decode()


def test_paced_file_emits_each_beat_when_its_audio_has_played(tmp_path: Path) -> None:
    beats = grid(120, 0.25, 5)
    clip = _clip(tmp_path, beats, 2.5, channels=1)
    proc = _support(["--input", str(clip)], beats="120,0.25,5")
    arrivals = []
    assert proc.stdout is not None
    for line in proc.stdout:  # each line is flushed as it is decided
        arrivals.append((time.monotonic(), json.loads(line)))
    proc.wait(60)
    assert proc.returncode == 0, proc.stderr.read().decode()  # type: ignore[union-attr]
    assert len(arrivals) == 5
    first_wall, first = arrivals[0]
    for wall, e in arrivals[1:]:  # wall-clock spacing follows the audio's spacing
        assert wall - first_wall == pytest.approx(e["emitted_at"] - first["emitted_at"],
                                                  abs=0.06)


def test_ctrl_c_finalizes_the_click_file_and_sends_midi_stop(tmp_path: Path) -> None:
    beats = grid(120, 0.25, 1000)
    clip = _clip(tmp_path, beats[:40], 20.0, channels=1)
    midi = MidiReceiver()
    out = tmp_path / "click.wav"
    proc = _support(["--input", str(clip), "--click-out", str(out),
                     "--midi-port", f"tcp:127.0.0.1:{midi.port}"])
    assert proc.stdout is not None
    json.loads(proc.stdout.readline())  # running: the first beat came out
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=30)
    assert all(e["t"] in beats for e in _lines(rest.decode()))  # whole lines only
    assert proc.returncode == 0, err.decode()
    assert "stopped by Ctrl-C" in err.decode()
    types = midi.types()
    assert types[0] == "start" and types[-1] == "stop"
    audio, sr = sf.read(out)
    assert 0.5 * sr < len(audio) < 10 * sr  # what had played when stopped
    assert not list(tmp_path.glob(".tmp-*"))


@pytest.mark.parametrize(("args", "message"), [
    ([], "exactly one of"),
    (["--stdin", "--device", "1"], "exactly one of"),
    (["--stdin", "--fast"], "--fast works with --input only"),
    (["--input", "nope.wav"], "no such file"),
    (["--input", "CLIP", "--osc", "localhost"], "HOST:PORT"),
    (["--input", "CLIP", "--midi-port", "a", "--midi-virtual", "b"], "not both"),
    (["--stdin", "--block", "10"], "--block"),
    (["--stdin", "--format", "s24le"], "--format"),
    (["--input", "CLIP", "--click-out", "OUT/click.mp3"], "WAV"),
])
def test_usage_errors_exit_2_before_any_work(args: list[str], message: str,
                                             tmp_path: Path) -> None:
    clip = _clip(tmp_path, [0.5], 1.0)
    out = tmp_path / "out"
    args = [str(clip) if a == "CLIP" else a.replace("OUT", str(out)) for a in args]
    r = run_heihachi("hf", "realtime-beats", *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr
    assert not out.exists() or not list(out.iterdir())  # no click file or temp file left


def test_stdin_from_a_terminal_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        buffer = None

        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    r = run_heihachi("hf", "realtime-beats", "--stdin")
    assert r.returncode == 2 and "from a pipe" in r.stderr


def test_unreachable_midi_port_is_a_usage_error_and_leaves_no_click_file(
        tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        free = s.getsockname()[1]
    clip = _clip(tmp_path, [0.5], 1.0)
    r = run_heihachi("hf", "realtime-beats", "--input", str(clip), "--fast",
                     "--click-out", str(tmp_path / "o" / "click.wav"),
                     "--midi-port", f"tcp:127.0.0.1:{free}")
    assert r.returncode == 2 and "cannot connect" in r.stderr
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_sound_card_without_portaudio_or_the_extra_is_a_clear_usage_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # as if the extra is missing
    for args in (["--device", "0"], ["--list-devices"], ["--stdin", "--click-play"]):
        r = run_heihachi("hf", "realtime-beats", *args)
        assert r.returncode == 2, r.stderr
        assert "pip install 'heihachi[realtime]'" in r.stderr


def test_help_is_fast_and_imports_nothing_heavy() -> None:
    code = ("import sys, time; t = time.perf_counter(); import heihachi.cli.app; "
            "print(time.perf_counter() - t, [m for m in ('numpy', 'torch', 'mido', "
            "'sounddevice', 'pythonosc') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), check=True).stdout
    seconds, heavy = out.split(" ", 1)
    assert heavy.strip() == "[]"
    assert float(seconds) < 1.0
    r = subprocess.run([sys.executable, "-m", "heihachi", "hf", "realtime-beats", "--help"],
                       capture_output=True, text=True, env=dict(os.environ,
                                                                PYTHONPATH=str(ROOT)))
    assert r.returncode == 0 and "--midi-virtual" in r.stdout


def test_broken_stdout_pipe_ends_quietly(tmp_path: Path) -> None:
    clip = _clip(tmp_path, grid(174, 0.1, 40), 14.0, channels=1)
    proc = _support(["--input", str(clip), "--fast"], beats="174,0.1,40")
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # the reader goes away (`| head -1`)
    proc.wait(60)
    err = proc.stderr.read().decode()  # type: ignore[union-attr]
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_ndjson_off_keeps_stdout_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    beats = grid(120, 0.25, 3)
    monkeypatch.setattr("heihachi.cli.realtime.make_tracker", fake_factory(beats))
    clip = _clip(tmp_path, beats, 2.0)
    r = run_heihachi("hf", "realtime-beats", "--input", str(clip), "--fast", "--no-json",
                     "-q", "--click-out", str(tmp_path / "c.wav"))
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""
    assert np.abs(sf.read(tmp_path / "c.wav")[0]).max() > 0


def test_missing_model_exits_2_and_leaves_no_click_file(tmp_path: Path) -> None:
    clip = _clip(tmp_path, [0.5], 1.0)
    out = tmp_path / "o"
    r = run_heihachi("hf", "realtime-beats", "--input", str(clip), "--fast",
                     "--model", str(tmp_path / "no-such-model"),
                     "--click-out", str(out / "click.wav"))
    assert r.returncode == 2, r.stderr
    assert "does not exist" in r.stderr and r.stdout == ""
    assert not out.exists() or not list(out.iterdir())
