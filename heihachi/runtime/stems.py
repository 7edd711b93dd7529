"""Writing separated stems to disk as they are produced, in bounded memory.

The runtime hands a :class:`StemsSink` the part of each window a file owns, in
order (see ``Runner._stream``). The sink keeps one open ``soundfile.SoundFile``
per stem under a hidden temp name in ``OUT/<track>/stems/`` and appends each
part, so a ten-minute track never sits in memory whole. ``close()`` renames every
stem into place (one atomic ``os.replace`` each) and returns a :class:`StemFiles`
result, which the runtime writes as ``separate.json`` — the commit marker a
rerun checks. ``abort()`` deletes the temp files of a file that failed.

Formats: ``wav`` (float, pcm24, pcm16) and ``flac`` (pcm24, pcm16). OGG/Vorbis is
not offered: libsndfile crashed writing long stereo OGG on our machines.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from heihachi.errors import ConfigError, HeihachiError
from heihachi.results import Result, Stems

#: output.audio_format -> soundfile format
AUDIO_FORMATS: dict[str, str] = {"wav": "WAV", "flac": "FLAC"}
#: output.audio_subtype -> soundfile subtype
AUDIO_SUBTYPES: dict[str, str] = {"float": "FLOAT", "pcm24": "PCM_24", "pcm16": "PCM_16"}


def check_audio_output(audio_format: str, audio_subtype: str) -> tuple[str, str]:
    """Validate ``output.audio_format``/``audio_subtype``; return soundfile's names.

    Raises:
        ConfigError: an unknown format or subtype, or a pair the format cannot store.
    """
    fmt = AUDIO_FORMATS.get(str(audio_format).lower())
    if fmt is None:
        extra = " (ogg is not offered: libsndfile crashes writing long stereo OGG)" \
            if str(audio_format).lower() in ("ogg", "vorbis", "opus") else ""
        raise ConfigError(f"output.audio_format={audio_format!r}: use "
                          f"{' or '.join(AUDIO_FORMATS)}{extra}")
    sub = AUDIO_SUBTYPES.get(str(audio_subtype).lower())
    if sub is None:
        raise ConfigError(f"output.audio_subtype={audio_subtype!r}: use "
                          f"{', '.join(AUDIO_SUBTYPES)}")
    if fmt == "FLAC" and sub == "FLOAT":
        raise ConfigError("output.audio_format=flac stores integer samples only: add "
                          "output.audio_subtype=pcm24 (or pcm16), or use audio_format=wav")
    return fmt, sub


@dataclass
class StemFile:
    """One stem written to disk."""

    name: str
    file: str  # relative to the track directory, e.g. "stems/drums.wav"
    frames: int
    sample_rate: int
    channels: int

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "duration": round(self.duration, 6),
                "frames": self.frames, "sample_rate": self.sample_rate,
                "channels": self.channels}


@dataclass
class StemFiles(Result):
    """What ``hf separate`` wrote for one track: the stem files and their lengths."""

    task: ClassVar[str] = "separate"
    schema: ClassVar[str] = "heihachi.separate/1"

    files: list[StemFile] = field(default_factory=list)
    audio_format: str = "wav"
    audio_subtype: str = "float"
    sources: list[str] = field(default_factory=list)  # every stem the model produces

    def to_json(self) -> dict[str, Any]:
        first = self.files[0] if self.files else None
        return {"sample_rate": first.sample_rate if first else None,
                "channels": first.channels if first else None,
                "duration": round(first.duration, 6) if first else None,
                "audio_format": self.audio_format, "audio_subtype": self.audio_subtype,
                "sources": self.sources,
                "stems": [f.to_json() for f in self.files]}


class StemsSink:
    """Appends each window's stems to one open file per stem; atomic rename on close.

    Args:
        stems_dir: ``OUT/<track>/stems``.
        stems: keep only these stem names (None: all the model produces).
        audio_format: ``wav`` or ``flac``.
        audio_subtype: ``float``, ``pcm24`` or ``pcm16``.
    """

    def __init__(self, stems_dir: Path, stems: list[str] | None = None,
                 audio_format: str = "wav", audio_subtype: str = "float") -> None:
        self.dir = Path(stems_dir)
        self.keep = list(stems) if stems else None
        self.format, self.subtype = str(audio_format).lower(), str(audio_subtype).lower()
        self._sf_format, self._sf_subtype = check_audio_output(audio_format, audio_subtype)
        self.files: dict[str, Any] = {}  # stem -> open SoundFile
        self.temps: dict[str, Path] = {}
        self.frames = 0
        self.sample_rate = 0
        self.channels = 0
        self.sources: list[str] = []
        self.closed = False

    def _open(self, part: Stems) -> None:
        import uuid

        import soundfile as sf

        from heihachi.runtime.atomic import TMP_PREFIX, remove_stale_temp_files

        self.sources = list(part.stems)
        names = self.keep or self.sources
        missing = [s for s in names if s not in part.stems]
        if missing:
            raise ConfigError(f"--stems/output.stems: no stem {', '.join(map(repr, missing))} "
                              f"in this model; it produces {', '.join(self.sources)}")
        first = part.stems[names[0]]
        self.sample_rate, self.channels = int(part.sample_rate), int(first.shape[0])
        self.dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(self.dir)  # left by a killed run
        try:
            for name in names:
                # a fresh name, not mkstemp: stems get the umask's usual permissions
                tmp = self.dir / f"{TMP_PREFIX}{name}.{uuid.uuid4().hex[:12]}.{self.format}"
                self.temps[name] = tmp
                self.files[name] = sf.SoundFile(tmp, "w", samplerate=self.sample_rate,
                                                channels=self.channels,
                                                format=self._sf_format,
                                                subtype=self._sf_subtype)
        except Exception:
            self.abort()
            raise

    def write(self, part: Result) -> None:
        """Append one owned part (``[C, n]`` per stem) to every kept stem."""
        if not isinstance(part, Stems):
            raise HeihachiError(f"stems sink got a {type(part).__name__}, not Stems")
        if not self.files:
            self._open(part)
        n = None
        for name, f in self.files.items():
            wave = np.asarray(part.stems[name], dtype=np.float32)
            if wave.ndim == 1:
                wave = wave[None]
            if n is None:
                n = wave.shape[-1]
            if wave.shape != (self.channels, n):
                raise HeihachiError(f"stem {name!r}: part of shape {wave.shape}, expected "
                                    f"({self.channels}, {n})")
            if self._sf_subtype != "FLOAT":
                wave = np.clip(wave, -1.0, 1.0)  # integer files would wrap around
            f.write(np.ascontiguousarray(wave.T))
        self.frames += n or 0

    def close(self) -> StemFiles:
        """Finish every stem file, rename it into place, return what was written."""
        if not self.files:
            raise HeihachiError("no audio was separated (the file produced no windows)")
        for f in self.files.values():
            f.close()
        ext = self.format
        written = []
        for name, tmp in self.temps.items():
            final = self.dir / f"{name}.{ext}"
            os.replace(tmp, final)
            written.append(StemFile(name, f"{self.dir.name}/{final.name}", self.frames,
                                    self.sample_rate, self.channels))
        self.temps.clear()
        self.closed = True
        return StemFiles(written, self.format, self.subtype, self.sources)

    def abort(self) -> None:
        """Close and delete the temp files (the file failed); stems already final stay."""
        for f in self.files.values():
            try:
                f.close()
            except Exception:  # a half-written file may not close cleanly; it is deleted
                pass
        for tmp in self.temps.values():
            tmp.unlink(missing_ok=True)
        self.temps.clear()


def open_sink(result: Result, track_dir: Path, options: Any) -> Any:
    """The sink that streams ``result``'s type to disk, or None (stitched in memory).

    Stems go to ``<track>/stems/<stem>.<wav|flac>``; any other result type may stream
    through its own :meth:`~heihachi.results.Result.open_sink`.
    """
    if isinstance(result, Stems):
        return StemsSink(track_dir / "stems", stems=getattr(options, "stems", None),
                         audio_format=getattr(options, "audio_format", "wav"),
                         audio_subtype=getattr(options, "audio_subtype", "float"))
    return type(result).open_sink(track_dir, options)
