"""Traktor NML (``collection.nml``): tracks with beat grid, tempo, key and section cues.

The layout is Native Instruments Traktor's collection file, ``NML VERSION="19"``, with
the elements its schema requires (as published in ``traktor-nml-utils``' generated
models: ``HEAD``, ``MUSICFOLDERS``, ``COLLECTION``, ``SETS``, ``PLAYLISTS``,
``INDEXING``). Each ``ENTRY`` has:

- ``LOCATION`` (``DIR`` with Traktor's ``/:`` separators, ``FILE``, ``VOLUME``);
- ``INFO`` (``PLAYTIME`` seconds, ``KEY`` as the Camelot code);
- ``TEMPO`` (``BPM``, ``BPM_QUALITY``) and ``MUSICAL_KEY`` (``VALUE`` 0-23: 0-11 the
  major keys from C, 12-23 the minor keys from C);
- ``CUE_V2`` cues, ``START`` in milliseconds: a grid marker (``TYPE="4"``, with a
  ``GRID BPM``) at the first downbeat, and a cue (``TYPE="0"``) at each section start,
  the first eight also on hot cues 1-8.

Written with the standard library's ElementTree; ``traktor-nml-utils``' schema models
(xsdata) read it back in the tests, failing on unknown elements or attributes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from heihachi.export.dj_common import bar_tempi, parse_key, section_cues, write_xml


def location(path: Path) -> dict[str, str]:
    """Traktor's ``LOCATION`` attributes: ``DIR="/:home/:me/:"``, ``FILE``, ``VOLUME``."""
    path = path.absolute()
    parts = path.parent.parts[1:]
    directory = "/:" + "".join(f"{p}/:" for p in parts)
    return {"DIR": directory, "FILE": path.name, "VOLUME": path.anchor.rstrip("/\\") or "",
            "VOLUMEID": ""}


def musical_key(key: str | None) -> int | None:
    parsed = parse_key(key)
    if parsed is None:
        return None
    pc, minor = parsed
    return pc + (12 if minor else 0)


def entry_element(track: Any) -> ET.Element:
    path = Path(track.path)
    key, camelot, _conf = track.key()
    el = ET.Element("ENTRY", {"TITLE": track.name, "ARTIST": ""})
    ET.SubElement(el, "LOCATION", location(path))
    info = {"PLAYTIME": str(round(track.duration or 0.0)),
            "PLAYTIME_FLOAT": f"{track.duration or 0.0:.6f}", "COMMENT": "heihachi process"}
    if camelot:
        info["KEY"] = camelot
    ET.SubElement(el, "INFO", info)
    tempo = track.tempo()
    if tempo:
        ET.SubElement(el, "TEMPO", {"BPM": f"{tempo:.6f}", "BPM_QUALITY": "100.000000"})
    mk = musical_key(key)
    if mk is not None:
        ET.SubElement(el, "MUSICAL_KEY", {"VALUE": str(mk)})
    beats, downbeats = track.beats()
    grid = bar_tempi(beats, downbeats)
    order = 0
    if grid:
        first = next((g for g in grid if g[2] == 1), grid[0])
        cue = ET.SubElement(el, "CUE_V2", {"NAME": "AutoGrid", "DISPL_ORDER": "0", "TYPE": "4",
                                           "START": f"{first[0] * 1000:.6f}", "LEN": "0.000000",
                                           "REPEATS": "-1", "HOTCUE": "-1"})
        ET.SubElement(cue, "GRID", {"BPM": f"{tempo or first[1]:.6f}"})
        order = 1
    for i, (t, name) in enumerate(section_cues(track)):
        ET.SubElement(el, "CUE_V2", {"NAME": name, "DISPL_ORDER": str(order + i), "TYPE": "0",
                                     "START": f"{t * 1000:.6f}", "LEN": "0.000000",
                                     "REPEATS": "-1", "HOTCUE": str(i if i < 8 else -1)})
    return el


def primary_key(path: Path) -> str:
    loc = location(path)
    return f"{loc['VOLUME']}{loc['DIR']}{loc['FILE']}"


def build_traktor(tracks: list[Any], playlist: str = "heihachi") -> ET.ElementTree:
    root = ET.Element("NML", {"VERSION": "19"})
    ET.SubElement(root, "HEAD", {"COMPANY": "www.native-instruments.com",
                                 "PROGRAM": "Traktor"})
    ET.SubElement(root, "MUSICFOLDERS")
    coll = ET.SubElement(root, "COLLECTION", {"ENTRIES": str(len(tracks))})
    for t in tracks:
        coll.append(entry_element(t))
    ET.SubElement(root, "SETS", {"ENTRIES": "0"})
    pls = ET.SubElement(root, "PLAYLISTS")
    top = ET.SubElement(pls, "NODE", {"TYPE": "FOLDER", "NAME": "$ROOT"})
    sub = ET.SubElement(top, "SUBNODES", {"COUNT": "1"})
    node = ET.SubElement(sub, "NODE", {"TYPE": "PLAYLIST", "NAME": playlist})
    pl = ET.SubElement(node, "PLAYLIST", {"ENTRIES": str(len(tracks)), "TYPE": "LIST",
                                          "UUID": ""})
    for t in tracks:
        e = ET.SubElement(pl, "ENTRY")
        ET.SubElement(e, "PRIMARYKEY", {"TYPE": "TRACK", "KEY": primary_key(Path(t.path))})
    ET.SubElement(root, "INDEXING")
    ET.indent(root)
    return ET.ElementTree(root)


def write_traktor(tracks: list[Any], dest: Path) -> Path:
    """Write the collection of ``tracks`` (:class:`~heihachi.process.summary.TrackDoc`)."""
    return write_xml(build_traktor(tracks), dest)
