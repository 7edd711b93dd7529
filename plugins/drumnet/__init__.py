"""drumnet: the project's own drum transcription + beat activation model (inference only).

A small CRNN (log-mel frontend inside the module) trained offline on renders of real
drum recordings. Outputs per 10 ms frame: onset probabilities for kick, snare, hihat,
tom, cymbal; beat and downbeat probabilities; velocities. Import-light: torch/numpy
load in the submodules.

- ``model.load_drumnet(path)`` / ``model.make_tiny(path)``
- ``decode.activations_to_hits(onsets, velocity, fps, thresholds)``

Rendering and training live outside the installed package, in the repository's
``heihachi_train.drumnet`` (``python -m heihachi_train.drumnet.train --out DIR``),
so the wheel carries only the model, its decoder and the shipped weights.
"""

CLASSES = ("kick", "snare", "hihat", "tom", "cymbal")
MODEL_ID = "heihachi/drumnet-v4"


def load_drumnet(path, device="cpu"):
    from .model import load_drumnet as _load

    return _load(path, device)


def make_tiny(path):
    from .model import make_tiny as _mt

    return _mt(path)
