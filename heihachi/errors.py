"""The one exception family of Heihachi.

Every error a user can cause carries a message that says what was wrong, which
file or setting, and what to do about it. The CLI maps them to exit codes:
``UsageError`` and ``ConfigError`` exit 2; a per-file ``AudioError`` is recorded
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


class ModelNotFoundError(HeihachiError):
    """Model weights are not in the cache and cannot be downloaded."""


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
