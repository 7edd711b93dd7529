"""``OUT/report.html``: one self-contained page over a whole ``process`` run.

One row per analysed track (duration, tempo, key and Camelot code, loudness, hits per
class, a strip of its sections) and the files that failed, with their errors.
Clicking a row opens that track's ``timeline.html`` below the table (a link opens it
in its own tab). No network: CSS, JavaScript and data are inline; the timelines are
the per-track pages beside it.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from heihachi.process.summary import TrackDoc, read_run
from heihachi.results import DRUM_CLASSES
from heihachi.runtime.atomic import write_text

DASH = "\u2013"  # shown where a value is missing
SECTION_COLOURS = {"intro": "#4da3ff", "build-up": "#ffae42", "buildup": "#ffae42",
                   "drop": "#ff5a5a", "breakdown": "#5fd35f", "outro": "#b38cff"}

_CSS = """
body{font:13px system-ui,sans-serif;margin:0;background:#111;color:#ddd}
header{padding:10px 14px}h1{font-size:18px;margin:0 0 4px}.dim{color:#888}
table{border-collapse:collapse;margin:0 14px;width:calc(100% - 28px)}
th,td{padding:5px 8px;border-bottom:1px solid #2a2a2a;text-align:left;white-space:nowrap}
th{color:#aaa;font-weight:600}tbody tr{cursor:pointer}tbody tr:hover{background:#1d1d1d}
tbody tr.sel{background:#263238}td.num{text-align:right;font-variant-numeric:tabular-nums}
.strip{display:flex;width:260px;height:14px;background:#222;border-radius:3px;overflow:hidden}
.strip span{display:block;height:100%;border-right:1px solid #111}
a{color:#7fb8ff}#failed{margin:12px 14px;color:#ff8080}
#view{margin:12px 14px}#view iframe{width:100%;height:420px;border:1px solid #333;
background:#111}
"""

_JS = r"""
(function(){
"use strict";
var frame = document.getElementById("timeline"), title = document.getElementById("vtitle");
function open(row){
  Array.prototype.forEach.call(document.querySelectorAll("tbody tr.sel"),
    function(r){ r.classList.remove("sel"); });
  row.classList.add("sel");
  frame.src = row.getAttribute("data-timeline");
  title.textContent = row.getAttribute("data-track");
  document.getElementById("view").style.display = "block";
}
Array.prototype.forEach.call(document.querySelectorAll("tbody tr[data-timeline]"),
  function(row){ row.addEventListener("click", function(e){
    if (e.target.tagName !== "A") open(row); }); });
window.heihachiReport = {open: open, frame: frame, ready: true};
})();
"""


def _fmt_time(s: float | None) -> str:
    if s is None:
        return DASH
    m, sec = divmod(float(s), 60)
    return f"{int(m)}:{sec:04.1f}"


def _strip(track: TrackDoc) -> str:
    sections = track.sections()
    dur = track.duration or max([float(s.get("end") or 0) for s in sections] or [0.0])
    if not sections or not dur:
        return f'<span class="dim">{DASH}</span>'
    parts = []
    for s in sections:
        a, b = float(s.get("start") or 0.0), float(s.get("end") or dur)
        label = str(s.get("label") or "")
        colour = SECTION_COLOURS.get(label.split()[0].lower() if label else "", "#777")
        parts.append(f'<span style="width:{max(0.0, (b - a) / dur * 100):.2f}%;'
                     f'background:{colour}" title="{html.escape(label)} '
                     f'{_fmt_time(a)} to {_fmt_time(b)}"></span>')
    return f'<div class="strip">{"".join(parts)}</div>'


def _transitions(track: TrackDoc) -> str:
    """Where each track of a mix gives way to the next: ``3 · 4:10 5:58 ...``."""
    rows = track.transitions()
    if not rows:
        return DASH
    times = " ".join(_fmt_time(t.get("time")) for t in rows[:12])
    more = " ..." if len(rows) > 12 else ""
    return f"{len(rows)} &middot; {times}{more}"


def _row(track: TrackDoc, mix: bool = False) -> str:
    r = track.row()
    counts = r["counts"]
    timeline = f"{track.name}/timeline.html"
    has_timeline = (track.dir / "timeline.html").is_file()
    key = r["key"] or DASH
    if r["camelot"]:
        key = f"{key} ({r['camelot']})"
    cells = [f'<td>{html.escape(track.name)}</td>',
             f'<td class="num">{_fmt_time(r["duration"])}</td>',
             f'<td class="num">{r["tempo"] if r["tempo"] is not None else DASH}</td>',
             f'<td>{html.escape(key)}</td>',
             f'<td class="num">{r["loudness_lufs"] if r["loudness_lufs"] is not None else DASH}'
             "</td>"]
    cells += [f'<td class="num">{counts.get(c, DASH) if counts else DASH}</td>'
              for c in DRUM_CLASSES]
    cells.append(f"<td>{_strip(track)}</td>")
    if mix:
        cells.append(f"<td>{_transitions(track)}</td>")
    link = (f'<a href="{html.escape(timeline)}" target="_blank">timeline</a>'
            if has_timeline else '<span class="dim">no timeline</span>')
    cells.append(f"<td>{link}</td>")
    attrs = (f' data-timeline="{html.escape(timeline)}" data-track="{html.escape(track.name)}"'
             if has_timeline else "")
    return f"<tr{attrs}>{''.join(cells)}</tr>"


def render_report(out: Path) -> str:
    """The page as a string (reads every ``analysis.json`` and ``summary.json``)."""
    from heihachi.errors import UsageError

    try:
        tracks = read_run(out)
    except UsageError:  # every file failed: the page still lists why
        tracks = []
    failed = _failed(out)
    total = sum(t.duration or 0.0 for t in tracks)
    mix = any(t.has("transitions") for t in tracks)
    head = ["track", "duration", "BPM", "key", "LUFS", *DRUM_CLASSES, "sections",
            *(["transitions"] if mix else []), ""]
    rows = "\n".join(_row(t, mix) for t in tracks)
    fails = ""
    if failed:
        items = "".join(f"<li>{html.escape(f.get('error') or f.get('path', ''))}</li>"
                        for f in failed)
        fails = f'<div id="failed"><b>{len(failed)} failed</b><ul>{items}</ul></div>'
    data = json.dumps({"tracks": [t.row() for t in tracks]}, separators=(",", ":"))
    data = data.replace("</", "<\\/")  # "</" would end the script element early
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>heihachi report — {_count(len(tracks))}</title><style>{_CSS}</style></head>"
        f"<body><header><h1>heihachi report</h1><span>{_count(len(tracks))} · "
        f"{_fmt_time(total)} of audio</span> <span class=\"dim\">click a row to open its "
        "timeline</span></header>"
        f"<table><thead><tr>{''.join(f'<th>{html.escape(h)}</th>' for h in head)}</tr></thead>"
        f"<tbody>{rows}</tbody></table>{fails}"
        "<div id=\"view\" style=\"display:none\"><h2 id=\"vtitle\"></h2>"
        "<iframe id=\"timeline\" title=\"timeline\"></iframe></div>"
        "<script id=\"heihachi-data\" type=\"application/json\">"
        f"{data}</script><script>{_JS}</script></body></html>\n")


def _count(n: int) -> str:
    return f"{n} track" if n == 1 else f"{n} tracks"


def _failed(out: Path) -> list[dict[str, Any]]:
    try:
        doc = json.loads((out / "summary.json").read_text())
    except (OSError, ValueError):
        return []
    return [f for f in doc.get("files", []) if f.get("status") == "failed"]


def write_report(out: Path) -> Path:
    """Write ``OUT/report.html`` atomically; returns its path."""
    out = Path(out)
    return write_text(out / "report.html", render_report(out))
