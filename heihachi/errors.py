"""The one exception family of Heihachi.

Every error a user can cause carries a message that says what was wrong, which
file or setting, and what to do about it. The CLI maps them to exit codes:
``UsageError``, ``ConfigError`` and ``ModelNotFoundError`` exit 2 (nothing was
processed: fix the command or the setup); a per-file ``AudioError`` is recorded
in that file's summary entry and makes the run exit 1.
"""

from __future__ import annotations


class HeihachiError(Exception):
    """Base class of every error Heihachi raises on purpose."""


class UsageError(HeihachiError):
    """The command line or its arguments are wrong (exit code 2)."""


class ConfigError(UsageError):
    """A configuration key, value or plugin choice is wrong (exit code 2)."""


class PluginError(HeihachiError):
    """A plugin failed to load or is missing."""


class ModelNotFoundError(ConfigError):
    """Model weights are not in the cache and cannot be downloaded, or a local model
    path does not exist (exit code 2: no file can be processed without them)."""


class ExportError(HeihachiError):
    """Some output formats of a file failed; the others, and its results, were written.

    ``failed`` maps each format to its error; ``written`` lists the files that were
    written, so the runner still commits the file's results and a rerun makes only
    what is missing.
    """

    def __init__(self, failed: dict[str, str], written: list | None = None) -> None:
        self.failed = dict(failed)
        self.written = list(written or [])
        super().__init__("; ".join(f"export {fmt} failed: {msg}" for fmt, msg in failed.items()))


class AudioError(HeihachiError):
    """An input file cannot be used as audio. ``path`` names the file."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self) -> tuple:  # survive pickling between DataLoader workers
        return (type(self), (self.path, self.reason))


class AudioDecodeError(AudioError):
    """The file is missing, unreadable, not audio, corrupt or truncated."""


class EmptyAudioError(AudioError):
    """The file decodes to zero samples."""


class InvalidAudioError(AudioError):
    """The samples are unusable (all NaN/inf)."""
