"""Explicit per-kit mapping of Hydrogen drumkit instruments to drumnet classes.

Every instrument of every kit under ``/usr/share/hydrogen/data/drumkits`` (Debian
``hydrogen-drumkits`` + ``hydrogen-data``) is listed here by its exact ``<name>`` in
``drumkit.xml`` together with the class it belongs to, or ``None`` when it is excluded.
Names are never pattern-matched: several of them mislead (see the comments).  An
instrument that is not listed is excluded, and :func:`check_mapping` reports it.

Classes: ``kick``, ``snare``, ``hihat``, ``tom``, ``cymbal``.
Excluded on purpose: claps, side sticks / rim clicks, cowbells, shakers, tambourines,
hand percussion, FX, snare rolls (a multi-stroke sample has no single onset), snares
played with the snares off (neither snare nor tom), duplicated entries that reuse
another instrument's files, and empty placeholders.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

CLASSES = ("kick", "snare", "hihat", "tom", "cymbal")

DRUMKIT_DIRS = (
    os.environ.get("HEIHACHI_DRUMKITS", ""),
    "/usr/share/hydrogen/data/drumkits",
)

K, S, H, T, C = CLASSES
X = None  # excluded

# kit directory name -> {instrument name: class or None}
KIT_MAP: dict[str, dict[str, str | None]] = {
    "Audiophob": {
        "Kick": T,  # the file is 86335__zgump__tom-0105.wav: a tom, not a kick
        "Stick": X,
        "Snare Jazz": S,  # 8-bit snare
        "Hand Clap": X,
        "Snare Rock": S,
        "Tom Low": T,
        "Closed HH": H,
        "Tom Mid": T,
        "Pedal HH": X,  # fxshake5.wav: a shaker, not a hi-hat
        "Tom Hi": T,
        "Open HH": H,
        "Cowbell": X,
        "Ride Jazz": C,  # sabmute.wav (muted Sabian cymbal)
        "Crash": C,
    },
    "BJA_Pacific": {
        "BassDrum": K,
        "Snare": S,
        "Hi Hat Closed": H,
        "Hi Hat Opened": H,
        "Tom": T,
        "Floor Tom": T,
        "Crash Left": C,
        "Crash Right": C,
        "Ride Bell": C,
        "Ride": C,
        "Ride 2": C,
        "Snare Roll": X,  # multi-stroke roll sample
        "Snare Dry": S,
        "Hi Hat Free": H,
        # ids 14-31 are empty placeholders named "15".."32": excluded (not listed)
    },
    "ColomboAcousticDrumkit": {
        "BassDrum": K,
        "Stick": X,
        "Snare1": S,
        "redo super opaco": S,  # snare-opaque-2mics_normal-shot1.flac
        "Snare Rock": S,
        "Tom Low": T,
        "Closed HH": H,
        "Tom Mid": T,
        "Pedal HH": H,  # semi-open / open hi-hat files
        "Tom Hi": T,
        "Open HH": H,
        "tomhi2": X,  # duplicates of Tom Hi (same file tom-hi-1.flac)
        "tomhi3": X,
        "tomhi4": X,
        "crash16inch": C,
        "ride-crash20inch": C,
        "crash20inch--2": C,
        "ride-cup": C,
    },
    "ElectricEmpireKit": {
        **{n: K for n in ("Kick Lite 1", "Kick Lite 2", "Kick Low 1", "Kick Low 2",
                          "Kick Nz", "Kick Old", "Kick Power", "Kick Ring",
                          "Kick Stomp", "Kick Dist", "Kick Hard 1", "Kick Hard 2")},
        "Click": X,
        **{n: S for n in ("Snare 1", "Snare 2", "Snare 3", "Snare Low", "Snare Ring")},
        "Clap": X,
        "Clap Hard": X,
        **{n: H for n in ("Hat Closed Bs", "Hat Closed Dirty", "Hat Low", "Hat Ring 1",
                          "Hat Ring 2", "Hat Op Dirty", "Hat Op Phaser")},
        "Conga 1": X,
        "Conga 2": X,
        "Drum 1": X,  # unnamed synthetic drums: class unclear
        "Drum 2": X,
        "Whistle": X,
    },
    "ForzeeStereo": {
        'Kick (Tama Superstar 22")': K,
        'Tom Low (Tama Superstar 16")': T,
        'Tom Mid (Tama Superstar 13")': T,
        'Tom High (Tama Superstar 12")': T,
        "Snare (Pearl Free Floating Maple 14x3.5)": S,
        "Snare Rimshot (Pearl Free Floating Maple 14x3.5)": S,
        "Snare 2 (Pearl Free Floating Maple 14x3.5)": X,  # SnareOff: snares off
        "Snare 2 Rimshot (Pearl Free Floating Maple 14x3.5)": X,  # SnareOffRim
        "Rim Click (Pearl Free Floating Maple 14x3.5)": X,
        'Hi-Hat Closed (Paiste Alpha Metal edge 14")': H,
        'Hi-Hat Open (Paiste Alpha Metal edge 14")': H,
        'Hi-Hat Semiopen (Paiste Alpha Metal edge 14")': H,
        'Hi-Hat Pedal (Paiste Alpha Metal edge 14")': H,
        'Ride (Custom, Zagrebin 22")': C,  # "Custom" contains "tom": a ride, not a tom
        'Ride Bell (Custom, Zagrebin 22")': C,
        'Ride Bow (Custom, Zagrebin 22")': C,
        'China (Paiste Alpha 18")': C,
        'Crash/Ride (Paiste Rude Crash/Ride 18")': C,
        'Crash/Ride Bell (Paiste Rude Crash/Ride 18")': C,
        'Crash/Ride Bow (Paiste Rude Crash/Ride 18")': C,
        'Crash (Paiste Rude Thin 18")': C,
        'Splash (Paiste Rude 10")': C,
        "Tambourine (Pearl PTM-10GH)": X,
        "Tambourine Pedal (Pearl PTM-10GH)": X,
        "Agogo Low (Pearl ECB-23)": X,
        "Agogo High (Pearl ECB-23)": X,
        "Stick": X,
    },
    "GMRockKit": {
        "Kick": K,
        "Stick": X,
        "Snare": S,
        "Hand Clap": X,
        "Snare Rimshot": S,
        "Floor Tom": T,
        "Hat Closed": H,
        "Tom 2": T,
        "Hat Pedal": H,
        "Tom 1": T,
        "Hat Open": H,
        "Cowbell": X,
        "Ride": C,
        "Crash": C,
        "Ride 2": C,
        "Splash": C,
        "Hat Semi-Open": H,
        "Bell": C,  # ride bell
    },
    "Gimme A Hand 1.0": {},  # cajon, claps, snaps, bongos, tambourine...: no drum-kit class
    "HardElectro1": {
        "Kick 1": K,
        "Kick 2": K,
        "Kick 3": K,
        "Snare": S,
        "Clap 1": X,
        "Clap 2": X,
        "Closed HH 1": H,
        "Closed HH 2": H,
        "Closed HH 3": H,
        "Closed HH 4": H,
        "Open HH": H,
        "Side HH": H,  # PowR_HH_1
        "Side OHH": H,  # PowR_HH_2
        "Zap 1": X,
        "Zap 2": X,
        "FX": X,
    },
    "Millo-Drums_v.1": {
        "Kick": K,
        "Stick": X,
        "Snare Jazz": S,
        "Hand Clap": X,
        "Snare Rock": S,
        "Tom Low": T,
        "Closed HH": H,
        "Tom Mid": T,
        "Pedal HH": H,
        "Tom Hi": T,
        "Open HH": H,
        "Cowbell": X,
        "Ride Jazz": C,
        "Crash": C,
        "Ride Rock": C,
        "Crash Jazz": C,
        # "17".."32": emptySample.flac placeholders, excluded
    },
    "Millo_MultiLayered2": {
        "Kick": K,
        "Stick": X,
        "Snare Jazz": S,
        "Hand Clap": X,
        "Snare Rock": S,
        "Tom Low": T,
        "Closed HH": H,
        "Tom Mid": T,
        "Pedal HH": H,
        "Tom Hi": X,  # same files as Tom Mid
        "Open HH": H,
        "Cowbell": X,
        "Ride Jazz": C,
        "Crash": C,
        "Ride Rock": X,  # same files as Ride Jazz
        "Crash Jazz": X,  # same files as Crash
    },
    "Millo_MultiLayered3": {
        "Kick": K,
        "Stick": X,
        "Snare Roll": X,
        "Snare Rock": S,
        "Tom Low": T,
        "Closed HH": H,
        "Tom Mid": T,
        "Pedal HH": H,
        "Tom Hi": T,
        "Open HH": H,
        "Cowbell": X,
        "Ride Jazz": C,
        "Crash": C,
    },
    "TR808EmulationKit": {
        "Kick Long": K,
        "Kick Short": K,
        "Snare 1": S,
        "Snare 2": S,
        "Clap": X,
        "Tom Low": T,
        "Tom Mid": T,
        "Tom Hi": T,
        "Closed Hat": H,
        "Pedal Hat": H,
        "Open Hat": H,
        "Cymbal": C,
        "Shaker": X,
        "Conga": X,
        "Clave": X,
        "Cowbell": X,
    },
    "The Black Pearl 1.0": {
        "Pearl Kick": K,
        "Pearl Side Stick": X,
        "Pearl Snare": S,
        "Hand Clap": X,
        "Pearl Snare Rimshot": S,
        "Pearl Tom Floor": T,
        "Sabian Hat Closed": H,
        "Pearl Tom 2": T,
        "Sabian Hat Pedal": H,
        "Pearl Tom 1": T,
        "Sabian Hat Semi-Open": H,
        "Sabian Hat Open": H,
        "Sabian Hat Swish": H,
        "Sabian Hat Choke": H,
        "Cowbell": X,
        "Paiste Ride": C,
        "Paiste Bell": C,
        "Paiste Ride Flink": C,
        "Sabian Crash": C,
        "Sabian Crash Flink": C,
        "Zildjian Splash": C,
        "Zildjian Splash Choke": C,
    },
    "VariBreaks": {
        "VariBreaks Kick 1": K,
        "VariBreaks Kick 2": K,
        "VariBreaks Kick 3": K,
        "VariBreaks Snare 1": S,
        "VariBreaks Snare 2": S,
        "VariBreaks Snare 3": S,
        "VariBreaks Tom Low": T,
        "VariBreaks Tom Mid": T,
        "VariBreaks Tom Hi": T,
        "VariBreaks Hat 1 Cl": H,
        "VariBreaks Hat 1 Pd": H,
        "VariBreaks Hat 1 Op": H,
        "VariBreaks Hat 2 Cl": H,
        "VariBreaks Hat 3 Cl": H,
        "VariBreaks Drum 1": X,  # "VP Click.flac"
        "VariBreaks Drum 2": X,  # "VP Drum.flac": unclear
    },
    "circAfrique v4": {},  # djembe / dunun: no drum-kit class
    "rumpf_kit_z01_h2": {
        # The sample files are numbered takes ("beats_06-38.flac"); several names do not
        # match their sound (measured: "cymbal 1/2" and "ride bell" are short and dark,
        # centroid 0.7-1 kHz; "hi-hat open" lasts 0.1 s; "low tom" is brighter than the
        # others).  Only the instruments whose sound matches their name are used.
        "c3 - bass drum 1": K,
        "c#3 - stick": X,
        "d3 - snare 1": S,
        "d#3 - clap": X,
        "e3 - snare 2": S,
        "f3 - bass drum 2": K,
        "f#3 - hi-hat closed": H,
        "g3 - bass drum 3": K,
        "g#3 - hi-hat pedal": H,
        "a3 - bass drum 4": K,
        "a#3 - hi-hat open": X,
        "b3 - low tom": X,
        "c4 - middle tom": X,
        "c#4 - crash": C,
        "d4 - high tom": X,
        "d#4 - cymbal 1": X,
        "e4 - cymbal 2": X,
        "f4 - ride bell": X,
        # unnamed "f#4 - ".. and "Sample: beats_xx-yy.flac" entries: excluded
    },
}

# Kits that share recordings or authorship sessions must stay on one side of the split.
KIT_GROUPS: tuple[tuple[str, ...], ...] = (
    ("GMRockKit", "The Black Pearl 1.0"),  # same author (Glen MacArthur) and sessions
    ("Millo-Drums_v.1", "Millo_MultiLayered2", "Millo_MultiLayered3"),  # same author, shared files
    ("ElectricEmpireKit", "HardElectro1", "VariBreaks"),  # same author (Artemio)
)

VALIDATION_KITS: tuple[str, ...] = ("Audiophob", "ForzeeStereo", "TR808EmulationKit")
TRAIN_KITS: tuple[str, ...] = (
    "BJA_Pacific",
    "ColomboAcousticDrumkit",
    "ElectricEmpireKit",
    "GMRockKit",
    "HardElectro1",
    "Millo-Drums_v.1",
    "Millo_MultiLayered2",
    "Millo_MultiLayered3",
    "The Black Pearl 1.0",
    "VariBreaks",
    "rumpf_kit_z01_h2",
)

KIT_LICENCES: dict[str, str] = {
    "Audiophob": "CC0 (soundcloud.com/audiophobdubstep)",
    "BJA_Pacific": "CC-BY-SA-3.0-us (Luc Tunguay)",
    "ColomboAcousticDrumkit": "GPL-2+ with composition exception (Marcos Guglielmetti)",
    "ElectricEmpireKit": "GPL-2+ (Artemiy Pavlov)",
    "ForzeeStereo": "GPL-2 (Vladimir Sadovnikov, Alexander Belokurov)",
    "GMRockKit": "GPL-2+ (hydrogen-data, the Hydrogen development team)",
    "HardElectro1": "GPL-2+ (Artemiy Pavlov)",
    "Millo-Drums_v.1": "GPL-2 (Emiliano Grilli)",
    "Millo_MultiLayered2": "GPL-2 (Emiliano Grilli)",
    "Millo_MultiLayered3": "GPL-2 (Emiliano Grilli)",
    "TR808EmulationKit": "GPL-2+ (hydrogen-data, the Hydrogen development team)",
    "The Black Pearl 1.0": "GPL-2 (Glen MacArthur)",
    "VariBreaks": "GPL-2+ (Artemiy Pavlov)",
    "rumpf_kit_z01_h2": "CC-BY-3.0 (Emanuel Rumpf)",
}


def validation_kits() -> list[str]:
    """The held-out kits (never seen in training)."""
    return list(VALIDATION_KITS)


def train_kits() -> list[str]:
    return list(TRAIN_KITS)


def drumkit_root() -> Path:
    for d in DRUMKIT_DIRS:
        if d and Path(d).is_dir():
            return Path(d)
    raise FileNotFoundError(
        "Hydrogen drumkits not found; install Debian's hydrogen-drumkits and hydrogen-data "
        "or set HEIHACHI_DRUMKITS to a folder of drumkits"
    )


@dataclass
class Layer:
    path: Path
    vmin: float
    vmax: float
    gain: float


@dataclass
class Instrument:
    kit: str
    name: str
    cls: str
    volume: float
    layers: list[Layer] = field(default_factory=list)


def _strip(tag: str) -> str:
    return tag.split("}", 1)[-1]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    for c in el:
        if _strip(c.tag) == name:
            return c
    return None


def _text(el: ET.Element, name: str, default: str | None = None) -> str | None:
    c = _child(el, name)
    return c.text if c is not None and c.text is not None else default


def parse_kit(kit: str, root: Path | None = None) -> tuple[list[Instrument], list[str]]:
    """Instruments of ``kit`` mapped to classes, and names of unlisted instruments."""
    root = root or drumkit_root()
    kdir = root / kit
    tree = ET.parse(kdir / "drumkit.xml")
    mapping = KIT_MAP[kit]
    out: list[Instrument] = []
    unknown: list[str] = []
    for ins in tree.getroot().iter():
        if _strip(ins.tag) != "instrument":
            continue
        name = _text(ins, "name", "") or ""
        if name not in mapping:
            if any(_strip(x.tag) in ("layer", "filename") for x in ins.iter()):
                unknown.append(name)
            continue
        cls = mapping[name]
        if cls is None:
            continue
        volume = float(_text(ins, "volume", "1") or 1)
        layers = []
        for lay in ins.iter():
            if _strip(lay.tag) != "layer":
                continue
            fn = _text(lay, "filename")
            if not fn:
                continue
            layers.append(Layer(kdir / fn, float(_text(lay, "min", "0")),
                                float(_text(lay, "max", "1")), float(_text(lay, "gain", "1"))))
        fn = _text(ins, "filename")  # old single-sample format
        if fn and not layers:
            layers.append(Layer(kdir / fn, 0.0, 1.0, 1.0))
        layers = [x for x in layers if x.path.is_file()]
        if layers:
            out.append(Instrument(kit, name, cls, volume, sorted(layers, key=lambda x: x.vmin)))
    return out, unknown


def check_mapping(root: Path | None = None) -> dict[str, list[str]]:
    """Instruments present in drumkit.xml files but not listed in KIT_MAP (all excluded)."""
    root = root or drumkit_root()
    return {k: parse_kit(k, root)[1] for k in KIT_MAP if (root / k / "drumkit.xml").is_file()}
