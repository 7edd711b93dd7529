"""Realtime-beats sources and the click (issue 18): file pacing, raw PCM, the sound card
(through a stand-in ``sounddevice`` module where no card is needed), click file and
live click. Events come from ``MetronomeTracker``, a fake tracker of known beats
(tests/realtime_support.py)."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from realtime_support import MetronomeTracker, event, grid, render_clicks, silence_blocks

from heihachi.errors import UsageError
from heihachi.streaming.outputs import ClickFileOutput, ClickMixer
from heihachi.streaming.run import run_stream
from heihachi.streaming.sources import FileSource, PcmSource, rechunk

SR = 22050



# --- sources ---------------------------------------------------------------------------

def test_rechunk_gives_exact_blocks_and_a_short_last_one() -> None:
    parts = [np.arange(n, dtype=np.float32)[:, None] for n in (300, 10, 900, 5)]
    out = list(rechunk(iter(parts), 256))
    assert [len(b) for b in out] == [256, 256, 256, 256, 191]
    assert np.array_equal(np.concatenate(out)[:, 0], np.concatenate(parts)[:, 0])


@pytest.mark.parametrize("fmt", ["s16le", "f32le"])
def test_pcm_source_decodes_interleaved_frames_and_drops_a_partial_trailing_frame(fmt: str
                                                                                  ) -> None:
    rng = np.random.default_rng(0)
    audio = (rng.uniform(-0.9, 0.9, (1000, 2))).astype(np.float32)
    if fmt == "s16le":
        raw = (audio * 32768).astype("<i2").tobytes()
    else:
        raw = audio.astype("<f4").tobytes()
    src = PcmSource(io.BytesIO(raw + b"\x01\x02\x03"), 16000, channels=2, fmt=fmt, block=256)
    got = list(src)
    assert [len(b) for b, _ in got] == [256, 256, 256, 232]
    assert [t for _, t in got] == pytest.approx([0, 256 / 16000, 512 / 16000, 768 / 16000])
    joined = np.concatenate([b for b, _ in got])
    assert joined.shape == (1000, 2) and joined.dtype == np.float32
    assert np.allclose(joined, audio, atol=1 / 32768 + 1e-7)
    assert src.dropped_bytes == 3


def test_pcm_source_reassembles_frames_split_across_reads() -> None:
    class Trickle(io.RawIOBase):  # a pipe giving 7 bytes per read
        def __init__(self, data: bytes) -> None:
            self.data = data

        def read(self, n: int = -1) -> bytes:
            chunk, self.data = self.data[:7], self.data[7:]
            return chunk

    audio = np.arange(300, dtype="<i2")
    got = list(PcmSource(Trickle(audio.tobytes()), 8000, 1, "s16le", block=128))
    assert np.array_equal(np.concatenate([b for b, _ in got])[:, 0] * 32768, audio)


def test_file_source_paces_blocks_in_real_time_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "clip.wav"
    sf.write(path, render_clicks([0.1], 1.0, SR, channels=2), SR)
    now = [100.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    src = FileSource(path, block=512, realtime=True, clock=lambda: now[0], sleep=sleep)
    blocks = list(src)
    assert src.sample_rate == SR and src.channels == 2
    assert sum(len(b) for b, _ in blocks) == SR
    assert now[0] - 100.0 == pytest.approx(1.0, abs=1e-6)  # one second of audio, paced
    assert len(sleeps) == len(blocks)
    fast = FileSource(path, block=512, realtime=False, clock=lambda: 0.0,
                      sleep=lambda s: pytest.fail("--fast must not sleep"))
    assert sum(len(b) for b, _ in fast) == SR


def test_sound_card_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from heihachi.streaming.sources import DeviceSource

    monkeypatch.setitem(sys.modules, "sounddevice", None)  # as if not installed
    with pytest.raises(UsageError, match=r"heihachi\[realtime\]"):
        DeviceSource(0)


def test_sound_card_capture_gives_blocks() -> None:
    try:
        import sounddevice as sd

        sd.query_devices(kind="input")
    except Exception as e:  # no PortAudio library or no input device on this machine
        pytest.skip(f"needs a sound card with an input and PortAudio: {e}")
    from heihachi.streaming.sources import DeviceSource

    got = []
    for block, t in DeviceSource(None, 44100, 1, 512):  # type: ignore[arg-type]
        got.append((block.shape, t))
        if len(got) == 4:
            break
    assert [s for s, _ in got] == [(512, 1)] * 4
    assert [t for _, t in got] == pytest.approx([0, 512 / 44100, 1024 / 44100, 1536 / 44100])


class _FakeSoundDevice:
    """A stand-in for the ``sounddevice`` module (tests only): an input stream that calls
    its callback from a thread with the given blocks, then goes quiet; an output stream
    that keeps what is written. Tests the code around PortAudio, not PortAudio."""

    def __init__(self, blocks: list[np.ndarray]) -> None:
        self.blocks = blocks
        self.written: list[np.ndarray] = []
        fake = self

        class InputStream:
            def __init__(self, device, samplerate, channels, blocksize, dtype, callback):
                self.callback = callback
                self.stop = threading.Event()

            def _run(self) -> None:
                for b in fake.blocks:
                    if self.stop.is_set():
                        return
                    self.callback(b, len(b), None, None)
                    time.sleep(0.001)

            def __enter__(self):
                self.thread = threading.Thread(target=self._run, daemon=True)
                self.thread.start()
                return self

            def __exit__(self, *exc):
                self.stop.set()
                self.thread.join()

        class OutputStream:
            def __init__(self, samplerate, channels, dtype, device):
                pass

            def start(self) -> None:
                pass

            def write(self, data: np.ndarray) -> None:
                fake.written.append(np.array(data))

            def stop(self) -> None:
                pass

            def close(self) -> None:
                pass

        self.InputStream, self.OutputStream = InputStream, OutputStream


def test_device_source_hands_callback_blocks_over_in_order(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import sys

    from heihachi.errors import HeihachiError
    from heihachi.streaming.sources import DeviceSource

    rng = np.random.default_rng(1)
    blocks = [rng.standard_normal((256, 2)).astype(np.float32) for _ in range(6)]
    monkeypatch.setitem(sys.modules, "sounddevice", _FakeSoundDevice(blocks))
    monkeypatch.setattr(DeviceSource, "STALL_S", 0.3)
    src = DeviceSource(3, 16000, channels=2, block=256)
    got = []
    with pytest.raises(HeihachiError, match="sent no audio"):  # the fake goes quiet
        for block, t in src:
            got.append((block, t))
    assert [t for _, t in got] == pytest.approx([i * 256 / 16000 for i in range(6)])
    assert all(np.array_equal(b, want) for (b, _), want in zip(got, blocks, strict=True))


def test_live_click_plays_input_plus_each_click_once_decided(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    import sys

    from heihachi.streaming.outputs import ClickPlayOutput

    fake = _FakeSoundDevice([])
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    beats = grid(120, 0.3, 5)
    run_stream(silence_blocks(3.0, SR), MetronomeTracker(beats, SR, latency_s=0.05),
               [ClickPlayOutput(SR, 1)], SR)
    played = np.concatenate(fake.written)[:, 0]
    assert len(played) == round(3.0 * SR)
    onsets = np.flatnonzero((np.abs(played[1:]) > 1e-4) & (np.abs(played[:-1]) <= 1e-4)) + 1
    starts = onsets[np.concatenate([[True], np.diff(onsets) > SR // 10])]
    # each beat is decided on the block holding t + 0.05 and clicks at the start of that
    # same block, which is played out after it was processed (sample 0 of the burst is
    # sin(0) = 0, so onset = start + 1)
    want = [int((t + 0.05) * SR // 512) * 512 + 1 for t in beats]
    assert list(starts) == want


# --- click -----------------------------------------------------------------------------

def test_click_file_has_the_input_length_and_a_click_at_every_event(tmp_path: Path) -> None:
    beats = grid(120, 0.3, 6)
    out = ClickFileOutput(tmp_path / "click.wav", SR, 1)
    seconds = 3.33
    run_stream(silence_blocks(seconds, SR), MetronomeTracker(beats, SR), [out], SR)
    audio, sr = sf.read(tmp_path / "click.wav", dtype="float32")
    assert sr == SR and len(audio) == round(seconds * SR)
    assert not list(tmp_path.glob(".tmp-*"))  # written atomically, temp file gone
    onsets = np.flatnonzero((np.abs(audio[1:]) > 0.01) & (np.abs(audio[:-1]) <= 0.01)) + 1
    starts = onsets[np.concatenate([[True], np.diff(onsets) > SR // 10])] / SR
    assert starts == pytest.approx(beats, abs=2 / SR)
    down = audio[round(beats[0] * SR): round(beats[0] * SR) + 600]
    beat = audio[round(beats[1] * SR): round(beats[1] * SR) + 600]
    assert np.abs(down).max() > 1.5 * np.abs(beat).max()  # the downbeat is accented


def test_click_file_refuses_other_formats(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="WAV"):
        ClickFileOutput(tmp_path / "click.mp3", SR, 1)


def test_live_click_mixer_places_late_beats_at_once_and_predicted_ones_on_time() -> None:
    mixer = ClickMixer(SR)
    block = np.zeros((512, 1), np.float32)
    length = round(0.03 * SR)  # a 30 ms click: 662 frames
    assert not mixer.mix(block).any()                         # frames 0..511
    mixer.add([event(100 / SR), event(1300 / SR, beat=2)])  # one late, one ahead
    first = mixer.mix(block)                                  # frames 512..1023
    assert first[0, 0] == 0 and first[1, 0] != 0              # late: at once (sin(0) = 0)
    second = mixer.mix(block)                                 # frames 1024..1535
    late_end = 512 + length - 1024
    assert np.abs(second[:late_end]).max() > 0                # the late click runs on
    assert not second[late_end:1300 - 1024].any()
    assert second[1300 - 1024 + 1, 0] != 0                    # predicted: at its time
    third = mixer.mix(np.zeros((4096, 1), np.float32))        # frames 1536..
    assert np.abs(third[:1300 + length - 1536]).max() > 0
    assert not third[1300 + length - 1536:].any() and not mixer.pending
