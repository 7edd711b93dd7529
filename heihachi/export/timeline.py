"""``timeline.html``: one self-contained interactive page of a track's beats and drum hits.

No network and no CDN: the JavaScript, the CSS and the data (JSON) are inline. A canvas
shows one lane per drum class (opacity = confidence, size = velocity) over the beat
grid (downbeats bold); the mouse wheel zooms around the pointer, dragging or the
scrollbar pans, and hovering a hit shows its time, class, label, confidence and velocity.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from heihachi.export.grid import beat_positions, get_beats, get_hits, get_sections, has_pulse
from heihachi.results import DRUM_CLASSES
from heihachi.runtime.atomic import write_text

_CSS = """
body{font:13px system-ui,sans-serif;margin:0;background:#111;color:#ddd}
header{padding:8px 12px}h1{font-size:16px;margin:0 0 4px}
#wrap{position:relative;margin:0 12px}canvas{display:block;width:100%;background:#1b1b1b;
cursor:grab}#tip{position:absolute;pointer-events:none;background:#000c;color:#fff;
padding:4px 6px;border-radius:4px;display:none;white-space:pre;font-size:12px}
#scroll{width:calc(100% - 24px);margin:6px 12px}.hint{color:#888}
"""

_JS = r"""
(function(){
"use strict";
var D = JSON.parse(document.getElementById("heihachi-data").textContent);
var COL = {kick:"#ff5a5a",snare:"#4da3ff",hihat:"#5fd35f",tom:"#b38cff",cymbal:"#ffae42"};
var lanes = D.classes, LANE_H = 36, TOP = 26, AXIS = 20;
var cv = document.getElementById("tl"), ctx = cv.getContext("2d");
var tip = document.getElementById("tip"), sb = document.getElementById("scroll");
var dur = Math.max(D.duration, 1), view = {t0: 0, span: Math.min(dur, 20)};
var dragging = null;
function H(){ return TOP + LANE_H * Math.max(lanes.length, 1) + AXIS; }
function size(){
  var w = Math.max(cv.clientWidth || 800, 200), r = window.devicePixelRatio || 1;
  cv.width = w * r; cv.height = H() * r; cv.style.height = H() + "px";
  ctx.setTransform(r, 0, 0, r, 0, 0); return w;
}
function clamp(){
  view.span = Math.min(Math.max(view.span, 0.25), dur);
  view.t0 = Math.min(Math.max(view.t0, 0), Math.max(dur - view.span, 0));
  sb.max = String(Math.max(dur - view.span, 0)); sb.value = String(view.t0);
}
function x(t, w){ return (t - view.t0) / view.span * w; }
function draw(){
  var w = size(); clamp();
  ctx.clearRect(0, 0, w, H());
  lanes.forEach(function(c, i){
    ctx.fillStyle = i % 2 ? "#1f1f1f" : "#242424";
    ctx.fillRect(0, TOP + i * LANE_H, w, LANE_H);
    ctx.fillStyle = "#888"; ctx.fillText(c, 4, TOP + i * LANE_H + 12);
  });
  var t1 = view.t0 + view.span;
  D.beats.forEach(function(b){
    if (b[0] < view.t0 || b[0] > t1) return;
    var px = x(b[0], w), down = b[2] === 1;
    ctx.strokeStyle = down ? "#aaa" : "#555"; ctx.lineWidth = down ? 1.5 : 0.7;
    ctx.beginPath(); ctx.moveTo(px, TOP); ctx.lineTo(px, H() - AXIS); ctx.stroke();
    if (down && view.span < 120) {
      ctx.fillStyle = "#aaa"; ctx.fillText(String(b[1]), px + 2, TOP - 6);
    }
  });
  D.sections.forEach(function(s){
    if (s[0] < view.t0 || s[0] > t1) return;
    ctx.fillStyle = "#ffd700"; ctx.fillRect(x(s[0], w) - 1, 0, 3, TOP - 14);
    if (typeof s[1] === "string") ctx.fillText(s[1], x(s[0], w) + 4, 10);
  });
  D.hits.forEach(function(h){
    if (h[0] < view.t0 || h[0] > t1) return;
    var lane = lanes.indexOf(h[1]); if (lane < 0) return;
    ctx.globalAlpha = 0.25 + 0.75 * Math.min(Math.max(h[2], 0), 1);
    ctx.fillStyle = COL[h[1]] || "#ccc";
    var r = 2 + 5 * Math.min(Math.max(h[3], 0), 1);
    ctx.beginPath(); ctx.arc(x(h[0], w), TOP + lane * LANE_H + LANE_H / 2, r, 0, 2 * Math.PI);
    ctx.fill();
  });
  ctx.globalAlpha = 1; ctx.fillStyle = "#999";
  var step = Math.pow(10, Math.floor(Math.log10(view.span / 5)));
  if (view.span / step > 12) step *= 5; else if (view.span / step > 6) step *= 2;
  for (var t = Math.ceil(view.t0 / step) * step; t <= t1; t += step)
    ctx.fillText(t.toFixed(step < 1 ? 2 : 0) + "s", x(t, w) + 2, H() - 6);
}
function hitAt(mx, my){
  var w = cv.clientWidth || 800, lane = Math.floor((my - TOP) / LANE_H), best = null, bd = 8;
  if (lane < 0 || lane >= lanes.length) return null;
  D.hits.forEach(function(h){
    if (h[1] !== lanes[lane]) return;
    var d = Math.abs(x(h[0], w) - mx); if (d < bd) { bd = d; best = h; }
  });
  return best;
}
cv.addEventListener("wheel", function(e){
  e.preventDefault();
  var w = cv.clientWidth || 800, tm = view.t0 + (e.offsetX / w) * view.span;
  var f = Math.exp((e.deltaY || 0) * 0.0015);
  view.span *= f; view.t0 = tm - (e.offsetX / w) * view.span; draw();
}, {passive: false});
cv.addEventListener("mousedown", function(e){ dragging = {x: e.clientX, t0: view.t0}; });
window.addEventListener("mouseup", function(){ dragging = null; });
cv.addEventListener("mousemove", function(e){
  if (dragging) {
    view.t0 = dragging.t0 - (e.clientX - dragging.x) / (cv.clientWidth || 800) * view.span;
    draw(); return;
  }
  var h = hitAt(e.offsetX, e.offsetY);
  if (!h) { tip.style.display = "none"; return; }
  tip.textContent = h[1] + (h[4] && h[4] !== h[1] ? " (" + h[4] + ")" : "") +
    "\ntime " + h[0].toFixed(3) + " s\nconfidence " + h[2].toFixed(2) +
    "\nvelocity " + h[3].toFixed(2);
  tip.style.left = (e.offsetX + 12) + "px"; tip.style.top = (e.offsetY + 12) + "px";
  tip.style.display = "block";
});
cv.addEventListener("mouseleave", function(){ tip.style.display = "none"; });
sb.addEventListener("input", function(){ view.t0 = parseFloat(sb.value) || 0; draw(); });
window.addEventListener("resize", draw);
draw();
window.heihachiTimeline = {draw: draw, view: view, hitAt: hitAt, data: D, ready: true};
})();
"""


def timeline_data(results: dict[str, Any], track_name: str) -> dict[str, Any]:
    """The JSON the page embeds: hits ``[t, class, conf, vel, label]``, beats
    ``[t, bar, beat]``, section starts ``[t, label]``, tempo and duration (the audio's
    length from ``results["duration"]``; else the last event + 1 s)."""
    hits = get_hits(results)
    beats = get_beats(results)
    beat_rows: list[list[Any]] = []
    tempo = None
    if beats is not None:
        tempo = beats.tempo if has_pulse(beats) else None
        pos = beat_positions(beats.beats, beats.downbeats)
        beat_rows = [[round(float(t), 4), bar, beat]
                     for t, (bar, beat) in zip(beats.beats, pos, strict=True)]
    sections = [[round(a, 4), label] for a, _b, label in get_sections(results)]
    present = {h.drum_class for h in hits}
    classes = [c for c in DRUM_CLASSES if c in present] + sorted(present - set(DRUM_CLASSES))
    duration = results.get("duration")  # the audio length, when the runtime knows it
    if duration is None:
        duration = max([0.0] + [h.time for h in hits] + [r[0] for r in beat_rows]) + 1.0
    return {"track": track_name, "duration": float(duration), "tempo": tempo,
            "classes": classes or list(DRUM_CLASSES),
            "hits": [[round(h.time, 4), h.drum_class, round(float(h.confidence), 3),
                      round(float(h.velocity), 3), h.label or h.drum_class] for h in hits],
            "beats": beat_rows, "sections": sections}


def render_timeline(results: dict[str, Any], track_name: str) -> str:
    """The whole HTML page as a string."""
    data = timeline_data(results, track_name)
    # "</" inside a script element would end it early; JSON allows "<\/".
    blob = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    tempo = f"{data['tempo']:.1f} BPM · " if data["tempo"] else ""
    title = html.escape(track_name)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{title} — heihachi timeline</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{title}</h1><span>{tempo}{len(data['hits'])} hits · "
        f"{len(data['beats'])} beats</span> <span class=\"hint\">wheel: zoom · drag or "
        "scrollbar: pan · hover: details</span></header>"
        "<div id=\"wrap\"><canvas id=\"tl\"></canvas><div id=\"tip\"></div></div>"
        "<input id=\"scroll\" type=\"range\" min=\"0\" max=\"0\" step=\"0.01\" value=\"0\">"
        f"<script id=\"heihachi-data\" type=\"application/json\">{blob}</script>"
        f"<script>{_JS}</script></body></html>\n"
    )


def write_timeline(track_dir: Path, results: dict[str, Any], track_name: str) -> list[Path]:
    """Write ``timeline.html`` when there are hits or beats."""
    if "drums" not in results and "beats" not in results:
        return []
    return [write_text(Path(track_dir) / "timeline.html", render_timeline(results, track_name))]
