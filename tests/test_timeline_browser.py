"""Open ``timeline.html`` in headless Chromium and fail on any JavaScript error.

The page is loaded with an error trap injected before its own script and a check
injected after it that drives the page (draw, wheel zoom, drag, hover, scrollbar) and
then writes a success marker; ``--dump-dom`` returns the DOM after scripts ran.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from heihachi.export import WRITERS
from heihachi.results import Beats, DrumHit, DrumHits

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)

OK = 'id="HEIHACHI_TIMELINE_OK"'
ERR = 'id="HEIHACHI_JS_ERROR"'

TRAP = """<script>
window.__errors = [];
function __mark(id, text){ var d = document.createElement("div"); d.id = id;
  d.textContent = text; (document.body || document.documentElement).appendChild(d); }
window.onerror = function(msg, src, line){ __mark("HEIHACHI_JS_ERROR", msg + " @" + line); };
window.addEventListener("unhandledrejection", function(e){
  __mark("HEIHACHI_JS_ERROR", "rejection: " + e.reason); });
</script>"""

DRIVE = """<script>
(function(){
  var T = window.heihachiTimeline, cv = document.getElementById("tl");
  if (!T || !T.ready) { throw new Error("timeline did not initialise"); }
  T.draw();
  var span = T.view.span;
  cv.dispatchEvent(new WheelEvent("wheel", {deltaY: -400, clientX: 100, clientY: 60,
                                            bubbles: true, cancelable: true}));
  if (!(T.view.span < span)) { throw new Error("wheel did not zoom in"); }
  cv.dispatchEvent(new MouseEvent("mousedown", {clientX: 300, clientY: 60, bubbles: true}));
  cv.dispatchEvent(new MouseEvent("mousemove", {clientX: 200, clientY: 60, bubbles: true}));
  window.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
  var h = T.data.hits[3], w = cv.clientWidth || 800;
  T.view.t0 = Math.max(0, h[0] - 1); T.draw();
  var px = (h[0] - T.view.t0) / T.view.span * w;
  var lane = T.data.classes.indexOf(h[1]), rect = cv.getBoundingClientRect();
  var py = 26 + lane * 36 + 18;
  cv.dispatchEvent(new MouseEvent("mousemove", {clientX: rect.left + px,
                                                clientY: rect.top + py, bubbles: true}));
  var tip = document.getElementById("tip");
  if (tip.style.display !== "block" || tip.textContent.indexOf(h[1]) < 0) {
    throw new Error("no tooltip for hit: " + tip.textContent); }
  var sb = document.getElementById("scroll"); sb.value = "3";
  sb.dispatchEvent(new Event("input"));
  cv.dispatchEvent(new MouseEvent("mouseleave"));
  window.dispatchEvent(new Event("resize"));
  if (!document.getElementById("HEIHACHI_JS_ERROR")) { __mark("HEIHACHI_TIMELINE_OK", "ok"); }
})();
</script>"""


def dump_dom(page: Path, profile: Path) -> str:
    assert CHROMIUM is not None
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", f"--user-data-dir={profile}", "--window-size=1200,800",
           "--dump-dom", page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def instrumented(html_text: str) -> str:
    head = html_text.index("<head>") + len("<head>")
    body_end = html_text.rindex("</body>")
    return html_text[:head] + TRAP + html_text[head:body_end] + DRIVE + html_text[body_end:]


def results() -> dict[str, object]:
    beats = np.arange(0.2, 30.0, 60 / 174)
    hits = [DrumHit(float(t), c, 0.8, 0.6, lab) for t in beats
            for c, lab in (("kick", ""), ("hihat", "closed"))]
    hits += [DrumHit(float(t) + 0.1, "snare", 0.5, 0.9, "</script>") for t in beats[1::2]]
    return {"beats": Beats(beats, beats[::4]), "drums": DrumHits(sorted(hits,
                                                                         key=lambda h: h.time))}


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (/usr/bin/chromium); "
                    "CI installs it with `apt-get install -y chromium`")
def test_timeline_runs_without_js_errors(tmp_path: Path) -> None:
    (page,) = WRITERS["timeline"](tmp_path, results(), "browser test")
    test_page = tmp_path / "instrumented.html"
    test_page.write_text(instrumented(page.read_text()))
    dom = dump_dom(test_page, tmp_path / "profile")
    assert ERR not in dom, dom[dom.find(ERR):][:500]
    assert OK in dom


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (/usr/bin/chromium)")
def test_error_trap_catches_errors(tmp_path: Path) -> None:
    """The harness itself must see a broken page as broken."""
    page = tmp_path / "broken.html"
    page.write_text(instrumented("<html><head></head><body><script>nope();</script></body>"
                                 "</html>"))
    dom = dump_dom(page, tmp_path / "profile")
    assert ERR in dom and OK not in dom
    assert "nope is not defined" in dom
