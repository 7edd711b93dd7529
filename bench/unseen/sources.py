"""The unseen-source kits: three sound-source families that drumnet never trains on.

- ``opl3``: the drum kit (bank 128, preset 0) of Debian's ``opl3-soundfont``
  (OPL-3_FM_128M.sf2, CC-BY-SA-4.0, Zandro Reveille): recordings of a Yamaha OPL3 FM
  chip, the sound of PC sound cards, rendered with fluidsynth note by note;
- ``sonivox``: the General MIDI drum set of the Sonivox EAS wavetable synthesiser
  (Debian ``libsonivox3``, Apache-2.0, Sonic Network / the Android Open Source
  Project), the sound set of Android phones, driven through its C API (ctypes) one
  note at a time at 22.05 kHz;
- ``physical``: four kits of the physically modelled engine of :mod:`.physical`.

None of them is on the reserved list of ``shared/notes/drum-data.md``.  The training
sources are the Hydrogen kits, FluidR3 and TimGM6mb SoundFonts and the oscillator
synthesis of ``heihachi_train/drumnet/{synth,voices}.py``; :mod:`.leak` checks that no
one-shot here matches a training one-shot.  GM notes map to classes by
``soundfonts.GM_NOTES`` (side stick, claps, cowbell and hand percussion excluded).
"""

from __future__ import annotations

import ctypes
import functools
import shutil
from pathlib import Path

import numpy as np

from heihachi_train.drumnet.kits import CLASSES
from heihachi_train.drumnet.samples import Sample, prepare_one_shot, trim_onset
from heihachi_train.drumnet.soundfonts import GM_NOTES, VELOCITY_LAYERS, render_soundfont

OPL3_SF2 = Path("/usr/share/sounds/sf2/OPL-3_FM_128M.sf2")
PHYSICAL_KITS = tuple(f"Physical {i}" for i in range(4))
FAMILIES: dict[str, tuple[str, ...]] = {
    "opl3": ("OPL3 FM",),
    "sonivox": ("Sonivox EAS",),
    "physical": PHYSICAL_KITS,
}
LICENCES = {
    "opl3": "CC-BY-SA-4.0 (Zandro Reveille; Debian opl3-soundfont)",
    "sonivox": "Apache-2.0 (Sonic Network, the Android Open Source Project; Debian "
               "libsonivox3)",
    "physical": "this repository (bench/unseen/physical.py)",
}
ALL_KITS = tuple(k for kits in FAMILIES.values() for k in kits)


def family_of(kit: str) -> str:
    return next(f for f, kits in FAMILIES.items() if kit in kits)


def _opl3() -> list[tuple[str, list[tuple[np.ndarray, float, float]]]]:
    if not OPL3_SF2.is_file() or shutil.which("fluidsynth") is None:
        raise FileNotFoundError(f"{OPL3_SF2} or fluidsynth missing: apt-get install "
                                "opl3-soundfont fluidsynth")
    from heihachi_train.drumnet.soundfonts import RENDER_SR

    return [(ins.cls, [(prepare_one_shot(lay.audio, RENDER_SR), lay.vmin, lay.vmax)
                       for lay in ins.layers])
            for ins in render_soundfont("OPL3 FM", OPL3_SF2, 0)]


class _EASConfig(ctypes.Structure):
    _fields_ = [("libVersion", ctypes.c_ulong), ("checkedVersion", ctypes.c_uint),
                ("maxVoices", ctypes.c_long), ("numChannels", ctypes.c_long),
                ("sampleRate", ctypes.c_long), ("mixBufferSize", ctypes.c_long),
                ("filterEnabled", ctypes.c_uint), ("buildTimeStamp", ctypes.c_ulong),
                ("buildGUID", ctypes.c_char_p)]


def sonivox_notes(notes: list[tuple[int, int]],
                  note_s: float = 3.0) -> tuple[list[np.ndarray], int]:
    """Render each (GM drum note, velocity) alone on the Sonivox EAS synthesiser:
    note-on, ``note_s`` seconds, note-off, then a second of silence to let it die."""
    try:
        lib = ctypes.CDLL("libsonivox.so.3")
    except OSError:
        raise FileNotFoundError("libsonivox.so.3 missing: apt-get install libsonivox3") from None
    lib.EAS_Config.restype = ctypes.POINTER(_EASConfig)
    cfg = lib.EAS_Config().contents
    data, stream = ctypes.c_void_p(), ctypes.c_void_p()
    if lib.EAS_Init(ctypes.byref(data)) != 0:
        raise RuntimeError("EAS_Init failed")
    try:
        if lib.EAS_OpenMIDIStream(data, ctypes.byref(stream), None) != 0:
            raise RuntimeError("EAS_OpenMIDIStream failed")
        buf = (ctypes.c_short * (cfg.mixBufferSize * cfg.numChannels))()
        got = ctypes.c_long()

        def render(seconds: float) -> np.ndarray:
            out = []
            for _ in range(int(seconds * cfg.sampleRate / cfg.mixBufferSize)):
                if lib.EAS_Render(data, buf, cfg.mixBufferSize, ctypes.byref(got)) != 0:
                    raise RuntimeError("EAS_Render failed")
                a = np.frombuffer(buf, dtype=np.int16)[: got.value * cfg.numChannels]
                out.append(a.reshape(-1, cfg.numChannels).mean(axis=1) / 32768.0)
            return np.concatenate(out)

        def send(*msg: int) -> None:
            b = (ctypes.c_ubyte * len(msg))(*msg)
            if lib.EAS_WriteMIDIStream(data, stream, b, len(msg)) != 0:
                raise RuntimeError("EAS_WriteMIDIStream failed")

        shots = []
        for note, vel in notes:
            send(0x99, note, vel)
            shots.append(render(note_s))
            send(0x89, note, 0)
            render(1.0)
        lib.EAS_CloseMIDIStream(data, stream)
    finally:
        lib.EAS_Shutdown(data)
    return shots, int(cfg.sampleRate)


def _sonivox() -> list[tuple[str, list[tuple[np.ndarray, float, float]]]]:
    order = [(note, vel, lo, hi) for note in GM_NOTES for vel, lo, hi in VELOCITY_LAYERS]
    shots, sr = sonivox_notes([(n, v) for n, v, _, _ in order])
    by_note: dict[int, list[tuple[np.ndarray, float, float]]] = {}
    for (note, _, lo, hi), x in zip(order, shots, strict=True):
        if np.max(np.abs(x)) < 1e-4:
            continue
        by_note.setdefault(note, []).append((prepare_one_shot(x, sr), lo, hi))
    return [(GM_NOTES[n][0], layers) for n, layers in by_note.items()]


def _physical(kit: str) -> list[tuple[str, list[tuple[np.ndarray, float, float]]]]:
    from .physical import physical_kit

    seed = PHYSICAL_KITS.index(kit)
    return [(c, [(trim_onset(a), lo, hi) for a, lo, hi in layers])
            for c, instruments in physical_kit(seed).items() for layers in instruments]


@functools.cache
def load_unseen_bank(kit: str) -> dict[str, list[list[Sample]]]:
    """class -> instruments -> velocity layers, as ``samples.load_bank`` gives for a
    training kit (trimmed, at 24 kHz, peak-normalised per instrument)."""
    if kit == "OPL3 FM":
        found = _opl3()
    elif kit == "Sonivox EAS":
        found = _sonivox()
    elif kit in PHYSICAL_KITS:
        found = _physical(kit)
    else:
        raise ValueError(f"unknown unseen kit {kit!r}; choose from {ALL_KITS}")
    bank: dict[str, list[list[Sample]]] = {c: [] for c in CLASSES}
    for cls, layers in found:
        layers = [lay for lay in layers if len(lay[0]) >= 32 and np.max(np.abs(lay[0])) >= 1e-4]
        if not layers:
            continue
        peak = max(float(np.max(np.abs(a))) for a, _, _ in layers)
        bank[cls].append([Sample((a / peak).astype(np.float32), lo, hi, 1.0)
                          for a, lo, hi in layers])
    return bank
