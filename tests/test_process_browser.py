"""Open a `process` run's report.html in headless Chromium, click a row, and check the
track's timeline opens in it; fail on any JavaScript error or console.error, in the
report or in the timeline frame.

Both pages get an error trap injected before their own scripts (window.onerror,
unhandled rejections, console.error); a driver injected after the report's script clicks
the first row, waits for the timeline frame to load, drives it, and writes a success
marker; ``--dump-dom`` (with virtual time to let the frame load) returns the DOM.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, run_heihachi

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)
OK = 'id="HEIHACHI_REPORT_OK"'
ERR = 'id="HEIHACHI_JS_ERROR"'

TRAP = """<script>
function __mark(id, text){ var d = document.createElement("div"); d.id = id;
  d.textContent = text; (document.body || document.documentElement).appendChild(d); }
window.onerror = function(msg, src, line){ __mark("HEIHACHI_JS_ERROR", msg + " @" + line); };
window.addEventListener("unhandledrejection", function(e){
  __mark("HEIHACHI_JS_ERROR", "rejection: " + e.reason); });
(function(){ var orig = console.error; console.error = function(){
  __mark("HEIHACHI_JS_ERROR", "console.error: " + Array.prototype.join.call(arguments, " "));
  return orig.apply(console, arguments); }; })();
</script>"""

DRIVE = """<script>
(function(){
  var R = window.heihachiReport;
  if (!R || !R.ready) { throw new Error("report did not initialise"); }
  var rows = document.querySelectorAll("tbody tr[data-timeline]");
  if (rows.length < 1) { throw new Error("no rows with a timeline"); }
  R.frame.addEventListener("load", function(){
    try {
      var w = R.frame.contentWindow, T = w.heihachiTimeline;
      var inner = w.document.getElementById("HEIHACHI_JS_ERROR");
      if (inner) { throw new Error("in the timeline: " + inner.textContent); }
      if (!T || !T.ready) { throw new Error("the timeline in the frame did not initialise"); }
      if (!(T.data.beats.length > 10 && T.data.hits.length > 10)) {
        throw new Error("the timeline shows no beats or hits"); }
      var span = T.view.span, cv = w.document.getElementById("tl");
      cv.dispatchEvent(new w.WheelEvent("wheel", {deltaY: -400, clientX: 100, clientY: 60,
                                                  bubbles: true, cancelable: true}));
      if (!(T.view.span < span)) { throw new Error("wheel did not zoom the timeline"); }
      if (document.querySelector("tbody tr.sel") !== rows[0]) {
        throw new Error("the clicked row is not selected"); }
      if (!document.getElementById("HEIHACHI_JS_ERROR")) { __mark("HEIHACHI_REPORT_OK", "ok"); }
    } catch (e) { __mark("HEIHACHI_JS_ERROR", String(e)); }
  });
  rows[0].dispatchEvent(new MouseEvent("click", {bubbles: true}));
})();
</script>"""


def instrument(page: Path, drive: bool) -> None:
    text = page.read_text()
    head = text.index("<head>") + len("<head>")
    text = text[:head] + TRAP + text[head:]
    if drive:
        end = text.rindex("</body>")
        text = text[:end] + DRIVE + text[end:]
    page.write_text(text)


def dump_dom(page: Path, profile: Path) -> str:
    assert CHROMIUM is not None
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", "--allow-file-access-from-files", "--virtual-time-budget=20000",
           f"--user-data-dir={profile}", "--window-size=1300,900", "--dump-dom",
           page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (/usr/bin/chromium); CI installs it "
                             "with `apt-get install -y chromium`")


@needs_chromium
def test_report_opens_each_timeline_without_errors(tmp_path):
    out = tmp_path / "out"
    res = run_heihachi("process", str(ROOT / "examples" / "audio"), "-o", str(out), "-q")
    assert res.returncode == 0, res.stderr
    report = (out / "report.html").read_text()
    assert "two_step_174" in report and "174" in report
    for page in out.glob("*/timeline.html"):
        instrument(page, drive=False)
    instrument(out / "report.html", drive=True)
    dom = dump_dom(out / "report.html", tmp_path / "profile")
    assert ERR not in dom, dom[dom.find(ERR):][:600]
    assert OK in dom


@needs_chromium
def test_the_trap_sees_console_errors_and_broken_frames(tmp_path):
    """The harness must see a broken page as broken (console.error and a dead timeline)."""
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "timeline.html").write_text(
        "<html><head></head><body><script>console.error('boom');</script></body></html>")
    (tmp_path / "report.html").write_text(
        "<html><head></head><body><table><tbody><tr data-timeline=\"t/timeline.html\">"
        "<td>t</td></tr></tbody></table><iframe id=\"f\"></iframe><script>"
        "window.heihachiReport = {ready: true, frame: document.getElementById('f')};"
        "document.querySelector('tr').addEventListener('click', function(){"
        "document.getElementById('f').src = 't/timeline.html'; });</script></body></html>")
    instrument(tmp_path / "t" / "timeline.html", drive=False)
    instrument(tmp_path / "report.html", drive=True)
    dom = dump_dom(tmp_path / "report.html", tmp_path / "profile")
    assert ERR in dom and OK not in dom
    assert "console.error: boom" in dom
