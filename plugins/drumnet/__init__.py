"""drumnet: the project's own drum transcription + beat activation model.

A small CRNN (log-mel frontend inside the module) trained offline on renders of the real
Hydrogen drum samples shipped by Debian's ``hydrogen-drumkits`` / ``hydrogen-data``.
Outputs per 10 ms frame: onset probabilities for kick, snare, hihat, tom, cymbal; beat and
downbeat probabilities; velocities.  Import-light: torch/numpy load in the submodules.

- ``model.load_drumnet(path)`` / ``model.make_tiny(path)``
- ``decode.activations_to_hits(onsets, velocity, fps, thresholds)``
- ``render.render_validation_set(n_clips, seed)`` / ``kits.validation_kits()``
- training: ``python -m heihachi.plugins.drumnet.train --out models_cache/heihachi/drumnet-v1``
"""

CLASSES = ("kick", "snare", "hihat", "tom", "cymbal")
MODEL_ID = "heihachi/drumnet-v1"


def validation_kits() -> list[str]:
    from .kits import validation_kits as _vk

    return _vk()


def load_drumnet(path, device="cpu"):
    from .model import load_drumnet as _load

    return _load(path, device)


def make_tiny(path):
    from .model import make_tiny as _mt

    return _mt(path)
