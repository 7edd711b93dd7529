"""Decode, resample, channel-mix and window audio files, in bounded memory.

Decoding streams blocks through libsndfile (``soundfile``: wav, flac, ogg, mp3,
aiff) and falls back to FFmpeg's decoders through PyAV for what libsndfile
cannot read (m4a/aac, opus, wma, video containers). Resampling is streamed with
``soxr.ResampleStream`` so windows of a long file are cut from one continuous,
correctly filtered signal and a 60-minute file never sits decoded in memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heihachi.errors import AudioDecodeError, AudioError, EmptyAudioError, InvalidAudioError

AUDIO_EXTENSIONS = frozenset({
    ".wav", ".wave", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".m4a", ".aac",
    ".opus", ".wma", ".mp4", ".webm", ".caf",
})
#: Formats whose header states the exact frame count, so a short read means truncation.
_EXACT_LENGTH_FORMATS = frozenset({"WAV", "WAVEX", "AIFF", "FLAC", "W64", "RF64", "CAF"})
_BLOCK_FRAMES = 65_536
_TRUNCATED_RE = re.compile(r"^\s*data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, read from its header."""

    path: Path
    sample_rate: int
    channels: int
    frames: int | None
    backend: str  # "soundfile" or "pyav"
    format: str = ""

    @property
    def duration(self) -> float | None:
        return self.frames / self.sample_rate if self.frames is not None else None


@dataclass
class Window:
    """A window of resampled audio cut from one file.

    ``audio`` is ``[C, n]`` float32 at the requested rate; ``start`` is seconds
    from the file start; ``last`` marks the final window, whose ``duration``
    holds the file's total decoded duration and, if some samples were NaN or
    infinite (replaced by zeros), a ``warning`` that says how many.
    """

    index: int
    start: float
    audio: np.ndarray
    last: bool
    duration: float | None = None
    warning: str | None = None


def is_audio_path(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_EXTENSIONS


def _check_file(path: Path) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise AudioDecodeError(path, "not found: no such file or directory (check the path; "
                                     "it may have moved since the input list was made)"
                               ) from None
    except OSError as e:
        raise AudioDecodeError(path, f"cannot read file: {e.strerror}") from None
    if not os.path.isfile(path):
        raise AudioDecodeError(path, "not a regular file")
    if st.st_size == 0:
        raise EmptyAudioError(path, "file is empty (0 bytes)")


def probe(path: str | Path) -> AudioInfo:
    """Read the header of ``path``; raises an :class:`AudioError` subclass if unusable."""
    import soundfile as sf

    path = Path(path)
    _check_file(path)
    try:
        info = sf.info(str(path))
        if info.frames == 0:
            raise EmptyAudioError(path, "the file holds no audio samples")
        truncated = _TRUNCATED_RE.search(info.extra_info or "")
        if truncated and int(truncated[1]) > int(truncated[2]):
            raise AudioDecodeError(path, f"truncated: the header declares {truncated[1]} bytes "
                                         f"of audio data, the file holds {truncated[2]}")
        return AudioInfo(path, int(info.samplerate), int(info.channels), int(info.frames),
                         "soundfile", info.format)
    except AudioError:
        raise
    except Exception as sf_error:  # libsndfile can't read it: try FFmpeg's decoders
        return _probe_pyav(path, sf_error)


def _probe_pyav(path: Path, sf_error: Exception) -> AudioInfo:
    try:
        import av
    except ImportError:
        raise AudioDecodeError(path, f"not readable by libsndfile ({sf_error}); install "
                                     "PyAV (`pip install av`) for m4a/aac/opus") from None
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioDecodeError(path, "the file has no audio stream")
            stream = container.streams.audio[0]
            frames = None
            if stream.duration is not None and stream.time_base is not None:
                frames = int(stream.duration * stream.time_base * stream.rate)
            return AudioInfo(path, int(stream.rate), int(stream.channels), frames, "pyav",
                             stream.codec_context.name)
    except AudioDecodeError:
        raise
    except Exception as e:
        raise AudioDecodeError(
            path, "not a recognised audio file or corrupt (libsndfile: "
                  f"{_one_line(sf_error)}; ffmpeg: {_one_line(e)})") from None


def _one_line(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def _blocks(info: AudioInfo) -> Iterator[np.ndarray]:
    """Yield ``[n, C]`` float32 blocks at the native rate."""
    if info.backend == "soundfile":
        import soundfile as sf

        decoded = 0
        try:
            with sf.SoundFile(str(info.path)) as f:
                while True:
                    block = f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
                    if len(block) == 0:
                        break
                    decoded += len(block)
                    yield block
        except AudioDecodeError:
            raise
        except Exception as e:
            raise AudioDecodeError(info.path, f"corrupt audio data after {decoded} frames "
                                              f"({_one_line(e)})") from None
        if info.format in _EXACT_LENGTH_FORMATS and info.frames and decoded < info.frames:
            raise AudioDecodeError(info.path, f"truncated: header promises {info.frames} "
                                              f"frames, only {decoded} could be decoded")
    else:
        yield from _pyav_blocks(info)


def _pyav_blocks(info: AudioInfo) -> Iterator[np.ndarray]:
    import av

    try:
        with av.open(str(info.path)) as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout=None, rate=None)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield np.ascontiguousarray(out.to_ndarray().T, dtype=np.float32)
    except Exception as e:
        raise AudioDecodeError(info.path, f"cannot decode audio ({_one_line(e)})") from None


def mix_channels(block: np.ndarray, channels: int) -> np.ndarray:
    """``[n, C_in]`` -> ``[n, channels]``: mean for mono, first two (or duplicated) for stereo."""
    c_in = block.shape[1]
    if channels == 1:
        return block.mean(axis=1, keepdims=True) if c_in > 1 else block
    if c_in == 1:
        return np.repeat(block, channels, axis=1)
    return block[:, :channels]


class _Resampler:
    """Streaming resampler that is a no-op at equal rates."""

    def __init__(self, in_rate: int, out_rate: int, channels: int) -> None:
        self.same = in_rate == out_rate
        if not self.same:
            import soxr

            self.stream = soxr.ResampleStream(in_rate, out_rate, channels, dtype="float32",
                                              quality="HQ")

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        if self.same:
            return block
        return self.stream.resample_chunk(np.ascontiguousarray(block), last=last)


def _sanitize(path: Path, block: np.ndarray, state: dict) -> np.ndarray:
    finite = np.isfinite(block)
    if not finite.all():
        state["nonfinite"] += int((~finite).sum())
        block = np.where(finite, block, 0.0).astype(np.float32)
    state["finite"] += int(finite.sum())
    return block


def iter_windows(path: str | Path, sample_rate: int, channels: int,
                 window_s: float | None, hop_s: float | None = None) -> Iterator[Window]:
    """Yield consecutive windows of ``path`` resampled to ``sample_rate``.

    With ``window_s=None`` the whole file is one window. Windows start every
    ``hop_s`` seconds (default ``window_s``) and cover the file to its end; the
    last may be shorter. Memory stays bounded by one window plus one block.

    Raises:
        AudioError subclasses naming the file: missing, unreadable, not audio,
        corrupt/truncated, empty, or all samples NaN/inf.
    """
    path = Path(path)
    info = probe(path)
    resample = _Resampler(info.sample_rate, sample_rate, channels)
    state = {"nonfinite": 0, "finite": 0}
    windower = Windower(sample_rate, channels, window_s, hop_s, whole=window_s is None)
    for block in _blocks(info):
        yield from windower.push(resample(_sanitize(path, mix_channels(block, channels), state)))
    for window in windower.close(resample(np.zeros((0, channels), np.float32), last=True),
                                 check=lambda total: _check_decoded(path, state, total)):
        if window.last:
            window.warning = _nonfinite_warning(state)
        yield window


def _check_decoded(path: Path, state: dict, total: int) -> None:
    if state["finite"] + state["nonfinite"] == 0 or total == 0:
        raise EmptyAudioError(path, "the file decodes to zero samples")
    if state["finite"] == 0:
        raise InvalidAudioError(path, "every sample is NaN or infinite")


class Windower:
    """Cuts a stream of ``[n, C]`` blocks at ``sample_rate`` into :class:`Window` s.

    ``window_s`` set: windows of that length every ``hop_s`` seconds (default
    ``window_s``), covering the stream to its end, the last possibly shorter.
    ``window_s=None``: each pushed block is passed on as a window (no overlap), or,
    with ``whole=True``, the whole stream is one window. A window is held back one
    step so the final one can be marked ``last`` (with the stream's ``duration``).
    Memory: one window plus one block.
    """

    def __init__(self, sample_rate: int, channels: int, window_s: float | None,
                 hop_s: float | None = None, whole: bool = False) -> None:
        self.rate = sample_rate
        self.win = None if window_s is None else max(1, round(window_s * sample_rate))
        self.hop = None if self.win is None else max(1, round((hop_s or window_s) * sample_rate))
        self.whole = whole and self.win is None
        self.buf = _Buffer(channels)
        self.starts = 0  # sample position of the buffer's first sample
        self.index = 0
        self.pending: Window | None = None

    def _emit(self, window: Window) -> Iterator[Window]:
        if self.pending is not None:
            yield self.pending
        self.pending = window
        self.index += 1

    def _next_window(self) -> Iterator[Window]:
        assert self.win is not None and self.hop is not None
        audio = self.buf.head(min(self.buf.size, self.win))
        yield from self._emit(Window(self.index, self.starts / self.rate, audio, last=False))
        self.buf.drop(self.hop)
        self.starts += self.hop

    def push(self, block: np.ndarray) -> Iterator[Window]:
        """Add ``[n, C]`` samples; yield the windows that are complete (one step late)."""
        if self.win is None:
            if len(block) and not self.whole:
                w = Window(self.index, self.starts / self.rate,
                           np.ascontiguousarray(block.T, dtype=np.float32), last=False)
                self.starts += len(block)
                yield from self._emit(w)
            elif len(block):
                self.buf.push(block)
            return
        self.buf.push(block)
        while self.buf.size >= self.win:
            yield from self._next_window()

    def close(self, tail: np.ndarray | None = None,
              check: Callable[[int], None] | None = None) -> Iterator[Window]:
        """Add the final samples ``tail``; yield the remaining windows, the last marked.

        ``check(total_samples)`` runs first (raise to refuse an empty stream).
        """
        if tail is not None and len(tail):
            yield from self.push(tail)
        total = self.starts + self.buf.size
        if check is not None:
            check(total)
        duration = total / self.rate
        if self.win is None:
            if self.whole:
                self.pending = Window(0, 0.0, self.buf.head(self.buf.size), last=False)
            if self.pending is None:
                self.pending = Window(self.index, self.starts / self.rate,
                                      np.zeros((self.buf.channels, 0), np.float32), last=False)
        else:
            while self.pending is None or self._pending_end() < total:
                yield from self._next_window()
        assert self.pending is not None
        self.pending.last, self.pending.duration = True, duration
        yield self.pending
        self.pending = None

    def _pending_end(self) -> int:
        assert self.pending is not None
        return round(self.pending.start * self.rate) + self.pending.audio.shape[1]


@dataclass
class StreamBlock:
    """A block of one file decoded once and given at several ``(rate, channels)``.

    ``audio[(rate, channels)]`` is ``[n, C]`` float32: consecutive blocks of one
    stream concatenate to the whole file at that rate. ``last`` marks the final
    block, whose ``durations[(rate, channels)]`` is that stream's total length.
    """

    index: int
    audio: dict[tuple[int, int], np.ndarray]
    last: bool = False
    durations: dict[tuple[int, int], float] | None = None
    warning: str | None = None  # on the last block: NaN/inf samples replaced by zeros


def iter_streams(path: str | Path, specs: list[tuple[int, int]], block_s: float = 4.0
                 ) -> Iterator[StreamBlock]:
    """Decode ``path`` once and give it at every ``(rate, channels)`` in ``specs``.

    Native blocks are gathered to about ``block_s`` seconds, mixed to each spec's
    channel count and streamed through one resampler per spec. Memory stays bounded
    by one block per spec. Raises the same errors as :func:`iter_windows`.
    """
    path = Path(path)
    info = probe(path)
    specs = list(dict.fromkeys((int(r), int(c)) for r, c in specs))
    resamplers = {s: _Resampler(info.sample_rate, s[0], s[1]) for s in specs}
    totals = dict.fromkeys(specs, 0)
    state = {"nonfinite": 0, "finite": 0}
    want = max(1, round(block_s * info.sample_rate))
    gathered: list[np.ndarray] = []
    size = 0
    index = 0

    def convert(native: np.ndarray, last: bool) -> dict[tuple[int, int], np.ndarray]:
        out = {}
        for s in specs:
            out[s] = resamplers[s](mix_channels(native, s[1]), last=last)
            totals[s] += len(out[s])
        return out

    for block in _blocks(info):
        gathered.append(_sanitize(path, block, state))
        size += len(block)
        if size >= want:
            yield StreamBlock(index, convert(np.concatenate(gathered), False))
            index += 1
            gathered, size = [], 0
    native = np.concatenate(gathered) if gathered else np.zeros((0, info.channels), np.float32)
    tail = convert(native, True)
    for s in specs:
        _check_decoded(path, state, totals[s])
    yield StreamBlock(index, tail, last=True,
                      durations={s: totals[s] / s[0] for s in specs},
                      warning=_nonfinite_warning(state))


def _nonfinite_warning(state: dict) -> str | None:
    """What the results of a file with some NaN/inf samples must be read with."""
    bad = state["nonfinite"]
    if not bad:
        return None
    share = bad / (bad + state["finite"])
    return (f"{bad} NaN/inf samples ({share:.2%} of the file) were replaced by zeros; "
            "the results of that stretch may be wrong (e.g. spurious hits at its edges)")


class _Buffer:
    """A FIFO of ``[n, C]`` sample blocks, sliced as ``[C, n]`` windows."""

    def __init__(self, channels: int) -> None:
        self.blocks: list[np.ndarray] = []
        self.size = 0
        self.channels = channels

    def push(self, block: np.ndarray) -> None:
        if len(block):
            self.blocks.append(block)
            self.size += len(block)

    def _joined(self) -> np.ndarray:
        if not self.blocks:
            return np.zeros((0, self.channels), np.float32)
        if len(self.blocks) > 1:
            self.blocks = [np.concatenate(self.blocks)]
        return self.blocks[0]

    def head(self, n: int) -> np.ndarray:
        return np.ascontiguousarray(self._joined()[:n].T, dtype=np.float32)

    def drop(self, n: int) -> None:
        data = self._joined()[n:]
        self.blocks = [data] if len(data) else []
        self.size = len(data)


def load(path: str | Path, sample_rate: int, channels: int = 1) -> np.ndarray:
    """Decode a whole file to ``[C, T]`` float32 at ``sample_rate``."""
    return next(iter_windows(path, sample_rate, channels, None)).audio
