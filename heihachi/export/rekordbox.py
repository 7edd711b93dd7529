"""Rekordbox XML (``rekordbox.xml``): tracks with beat grid, tempo, key and section cues.

The layout follows Pioneer DJ's published "rekordbox XML format" specification: a
``DJ_PLAYLISTS`` root (``Version="1.0.0"``) holding ``PRODUCT``, a ``COLLECTION`` of
``TRACK`` elements (``TrackID``, ``Name``, ``Kind``, ``Size``, ``TotalTime`` in
seconds, ``AverageBpm``, ``Tonality``, ``Location`` as a ``file://localhost/`` URI)
and ``PLAYLISTS`` (a ``ROOT`` folder node with one playlist node listing the tracks
by ``Key``). Each track carries:

- ``TEMPO`` at each bar start (``Inizio`` seconds, ``Bpm``, ``Metro="4/4"``,
  ``Battito`` = beat number in the bar): the beat grid, following tempo changes;
- ``POSITION_MARK`` memory cues (``Type="0"``, ``Num="-1"``) at each section start,
  named by the section label, and the first eight as hot cues (``Num`` 0-7).

Written with the standard library's ElementTree; ``pyrekordbox``'s ``RekordboxXml``
reads it back in the tests.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from heihachi.export.dj_common import bar_tempi, section_cues, short_key, write_xml

KINDS = {".mp3": "MP3 File", ".wav": "WAV File", ".flac": "FLAC File", ".aif": "AIFF File",
         ".aiff": "AIFF File", ".m4a": "M4A File", ".ogg": "OGG File"}


def _num(x: float, nd: int = 3) -> str:
    return f"{x:.{nd}f}"


def track_element(track: Any, track_id: int) -> ET.Element:
    path = Path(track.path)
    size = path.stat().st_size if path.is_file() else 0
    tempo = track.tempo()
    key, _camelot, _conf = track.key()
    el = ET.Element("TRACK", {
        "TrackID": str(track_id), "Name": track.name, "Artist": "", "Album": "",
        "Kind": KINDS.get(path.suffix.lower(), "Audio File"), "Size": str(size),
        "TotalTime": str(round(track.duration or 0.0)),
        "AverageBpm": _num(tempo or 0.0, 2), "Tonality": short_key(key),
        "Location": path.absolute().as_uri().replace("file:///", "file://localhost/", 1),
        "Comments": "heihachi process"})
    beats, downbeats = track.beats()
    for t, bpm, beat in bar_tempi(beats, downbeats):
        ET.SubElement(el, "TEMPO", {"Inizio": _num(t), "Bpm": _num(bpm, 2),
                                    "Metro": "4/4", "Battito": str(beat)})
    for i, (t, name) in enumerate(section_cues(track)):
        ET.SubElement(el, "POSITION_MARK", {"Name": name, "Type": "0", "Start": _num(t),
                                            "Num": "-1"})
        if i < 8:
            ET.SubElement(el, "POSITION_MARK", {"Name": name, "Type": "0",
                                                "Start": _num(t), "Num": str(i)})
    return el


def build_rekordbox(tracks: list[Any], playlist: str = "heihachi") -> ET.ElementTree:
    from heihachi import __version__

    root = ET.Element("DJ_PLAYLISTS", {"Version": "1.0.0"})
    ET.SubElement(root, "PRODUCT", {"Name": "heihachi", "Version": __version__,
                                    "Company": "heihachi"})
    coll = ET.SubElement(root, "COLLECTION", {"Entries": str(len(tracks))})
    for i, t in enumerate(tracks, 1):
        coll.append(track_element(t, i))
    pls = ET.SubElement(root, "PLAYLISTS")
    top = ET.SubElement(pls, "NODE", {"Type": "0", "Name": "ROOT", "Count": "1"})
    node = ET.SubElement(top, "NODE", {"Name": playlist, "Type": "1", "KeyType": "0",
                                       "Entries": str(len(tracks))})
    for i in range(1, len(tracks) + 1):
        ET.SubElement(node, "TRACK", {"Key": str(i)})
    ET.indent(root)
    return ET.ElementTree(root)


def write_rekordbox(tracks: list[Any], dest: Path) -> Path:
    """Write the collection of ``tracks`` (:class:`~heihachi.process.summary.TrackDoc`)."""
    return write_xml(build_rekordbox(tracks), dest)
