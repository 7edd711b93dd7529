"""Rendering and training of drumnet (the model itself lives in ``heihachi.plugins.drumnet``).

- ``kits``: the Hydrogen kits, mapped sample by sample to classes; train/validation split
- ``soundfonts``: General MIDI SoundFont kits rendered one hit at a time with fluidsynth
- ``synth``: synthesised drum-machine voices
- ``render``: training and validation clips with exact annotations
- ``train``: ``python -m heihachi_train.drumnet.train --out DIR ...`` (the exact
  commands are in the shipped models' cards)
- ``reproduce``: replays a shipped model's whole ``--init`` chain and checks each sha256
"""


def validation_kits() -> list[str]:
    from .kits import validation_kits as _vk

    return _vk()
