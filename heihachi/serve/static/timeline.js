/* The track timeline of the explorer: waveform, sections, beat grid, one lane per drum
   class, and the playback cursor, on one canvas. Wheel zooms around the pointer, drag
   pans, a click seeks the audio, hovering a hit shows it. No dependencies. */
(function () {
"use strict";
var COLORS = {kick: "#ff5a5a", snare: "#4da3ff", hihat: "#5fd35f", tom: "#b38cff",
              cymbal: "#ffae42"};
var SECTION_COLORS = ["#3b5b8c", "#6b3b8c", "#8c5b3b", "#3b8c6b", "#8c3b5b", "#5b8c3b"];
var WAVE_H = 90, SEC_H = 18, LANE_H = 28, AXIS_H = 18;

function Timeline(canvas, tip, scroll, player) {
  this.cv = canvas; this.ctx = canvas.getContext("2d"); this.tip = tip;
  this.scroll = scroll; this.player = player;
  this.doc = null; this.peaks = null; this.view = {t0: 0, span: 10};
  this.drag = null; this.follow = true;
  this._events();
}

Timeline.prototype.setData = function (doc, peaks) {
  this.doc = doc; this.peaks = peaks;
  var d = this.duration();
  this.view = {t0: 0, span: Math.min(d, 20)};
  this.draw();
};

Timeline.prototype.duration = function () {
  var d = this.doc ? this.doc.duration : 0;
  if (this.peaks && this.peaks.duration) d = Math.max(d || 0, this.peaks.duration);
  return Math.max(d || 0, 1);
};

Timeline.prototype.lanes = function () {
  var order = ["kick", "snare", "hihat", "tom", "cymbal"], have = this.doc.classes || [];
  return order.filter(function (c) { return have.indexOf(c) >= 0; })
    .concat(have.filter(function (c) { return order.indexOf(c) < 0; }));
};

Timeline.prototype.height = function () {
  return WAVE_H + SEC_H + LANE_H * Math.max(this.lanes().length, 1) + AXIS_H;
};

Timeline.prototype.x = function (t, w) { return (t - this.view.t0) / this.view.span * w; };

Timeline.prototype.clamp = function () {
  var d = this.duration(), v = this.view;
  v.span = Math.min(Math.max(v.span, 0.25), d);
  v.t0 = Math.min(Math.max(v.t0, 0), Math.max(d - v.span, 0));
  this.scroll.max = String(Math.max(d - v.span, 0));
  this.scroll.value = String(v.t0);
};

Timeline.prototype.zoom = function (factor, atT) {
  var v = this.view, t = atT === undefined ? v.t0 + v.span / 2 : atT;
  var frac = (t - v.t0) / v.span;
  v.span *= factor; v.t0 = t - frac * v.span; this.draw();
};

Timeline.prototype.draw = function () {
  if (!this.doc) return;
  var w = Math.max(this.cv.clientWidth || 800, 200), r = window.devicePixelRatio || 1;
  var h = this.height(), ctx = this.ctx, self = this;
  this.cv.width = w * r; this.cv.height = h * r; this.cv.style.height = h + "px";
  ctx.setTransform(r, 0, 0, r, 0, 0);
  this.clamp();
  var v = this.view, t1 = v.t0 + v.span;
  ctx.clearRect(0, 0, w, h);
  this._wave(w);
  (this.doc.sections || []).forEach(function (s, i) {
    var end = s.end === null || s.end === undefined ? (self.doc.sections[i + 1] || {}).start : s.end;
    if (end === undefined || end === null) end = self.duration();
    if (end < v.t0 || s.start > t1) return;
    var a = self.x(s.start, w), b = self.x(end, w);
    ctx.fillStyle = SECTION_COLORS[i % SECTION_COLORS.length];
    ctx.fillRect(a, WAVE_H, Math.max(b - a - 1, 1), SEC_H - 2);
    ctx.fillStyle = "#eee"; ctx.fillText(s.label || "", Math.max(a, 0) + 3, WAVE_H + 12);
  });
  var lanes = this.lanes(), top = WAVE_H + SEC_H;
  lanes.forEach(function (c, i) {
    ctx.fillStyle = i % 2 ? "#1f1f1f" : "#242424";
    ctx.fillRect(0, top + i * LANE_H, w, LANE_H);
    ctx.fillStyle = "#888"; ctx.fillText(c, 4, top + i * LANE_H + 11);
  });
  var down = {};
  (this.doc.downbeats || []).forEach(function (t) { down[t.toFixed(3)] = true; });
  (this.doc.beats || []).forEach(function (t) {
    if (t < v.t0 || t > t1) return;
    var px = self.x(t, w), isDown = down[t.toFixed(3)];
    ctx.strokeStyle = isDown ? "#aaa" : "#4a4a4a"; ctx.lineWidth = isDown ? 1.5 : 0.7;
    ctx.beginPath(); ctx.moveTo(px, top); ctx.lineTo(px, h - AXIS_H); ctx.stroke();
  });
  (this.doc.hits || []).forEach(function (hit) {
    if (hit[0] < v.t0 || hit[0] > t1) return;
    var lane = lanes.indexOf(hit[1]); if (lane < 0) return;
    ctx.globalAlpha = 0.25 + 0.75 * Math.min(Math.max(hit[2] || 0, 0), 1);
    ctx.fillStyle = COLORS[hit[1]] || "#ccc";
    ctx.beginPath();
    ctx.arc(self.x(hit[0], w), top + lane * LANE_H + LANE_H / 2,
            2 + 5 * Math.min(Math.max(hit[3] || 0, 0), 1), 0, 2 * Math.PI);
    ctx.fill();
  });
  ctx.globalAlpha = 1;
  this._axis(w, h);
  var now = this.player.currentTime || 0;
  if (now >= v.t0 && now <= t1) {
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.moveTo(this.x(now, w), 0); ctx.lineTo(this.x(now, w), h); ctx.stroke();
  }
};

Timeline.prototype._wave = function (w) {
  var ctx = this.ctx, p = this.peaks, mid = WAVE_H / 2;
  ctx.fillStyle = "#161616"; ctx.fillRect(0, 0, w, WAVE_H);
  if (!p || !p.max || !p.max.length) return;
  var n = p.max.length, d = this.duration(), per = d / n;
  ctx.fillStyle = "#5a7fa8";
  for (var px = 0; px < w; px++) {
    var ta = this.view.t0 + px / w * this.view.span, tb = ta + this.view.span / w;
    var a = Math.floor(ta / per), b = Math.max(Math.ceil(tb / per), a + 1);
    if (a >= n || b <= 0) continue;
    var lo = 0, hi = 0;
    for (var i = Math.max(a, 0); i < Math.min(b, n); i++) {
      if (p.min[i] < lo) lo = p.min[i]; if (p.max[i] > hi) hi = p.max[i];
    }
    ctx.fillRect(px, mid - hi * mid * 0.95, 1, Math.max((hi - lo) * mid * 0.95, 1));
  }
};

Timeline.prototype._axis = function (w, h) {
  var ctx = this.ctx, v = this.view, t1 = v.t0 + v.span;
  var step = Math.pow(10, Math.floor(Math.log10(v.span / 5)));
  if (v.span / step > 12) step *= 5; else if (v.span / step > 6) step *= 2;
  ctx.fillStyle = "#999";
  for (var t = Math.ceil(v.t0 / step) * step; t <= t1; t += step)
    ctx.fillText(t.toFixed(step < 1 ? 2 : 0) + "s", this.x(t, w) + 2, h - 5);
};

Timeline.prototype.hitAt = function (mx, my) {
  if (!this.doc) return null;
  var w = this.cv.clientWidth || 800, lanes = this.lanes();
  var lane = Math.floor((my - WAVE_H - SEC_H) / LANE_H), best = null, bd = 8, self = this;
  if (lane < 0 || lane >= lanes.length) return null;
  (this.doc.hits || []).forEach(function (hit) {
    if (hit[1] !== lanes[lane]) return;
    var d = Math.abs(self.x(hit[0], w) - mx); if (d < bd) { bd = d; best = hit; }
  });
  return best;
};

Timeline.prototype.tick = function () {
  /* called every animation frame while playing: keep the cursor in view */
  var now = this.player.currentTime || 0, v = this.view;
  if (this.follow && !this.drag && (now < v.t0 || now > v.t0 + v.span * 0.9))
    v.t0 = now - v.span * 0.1;
  this.draw();
};

Timeline.prototype._events = function () {
  var self = this, cv = this.cv;
  cv.addEventListener("wheel", function (e) {
    e.preventDefault();
    var w = cv.clientWidth || 800;
    self.zoom(Math.exp((e.deltaY || 0) * 0.0015), self.view.t0 + e.offsetX / w * self.view.span);
  }, {passive: false});
  cv.addEventListener("mousedown", function (e) {
    self.drag = {x: e.clientX, t0: self.view.t0, moved: false};
  });
  window.addEventListener("mouseup", function (e) {
    var d = self.drag; self.drag = null;
    if (d && !d.moved && e.target === cv && self.doc) {
      var w = cv.clientWidth || 800;
      self.player.currentTime = Math.max(0, self.view.t0 + e.offsetX / w * self.view.span);
      self.draw();
    }
  });
  cv.addEventListener("mousemove", function (e) {
    if (self.drag) {
      var dx = e.clientX - self.drag.x;
      if (Math.abs(dx) > 2) self.drag.moved = true;
      self.view.t0 = self.drag.t0 - dx / (cv.clientWidth || 800) * self.view.span;
      self.follow = false; self.draw(); return;
    }
    var hit = self.hitAt(e.offsetX, e.offsetY);
    if (!hit) { self.tip.style.display = "none"; return; }
    self.tip.textContent = hit[1] + (hit[4] && hit[4] !== hit[1] ? " (" + hit[4] + ")" : "") +
      "\ntime " + hit[0].toFixed(3) + " s\nconfidence " + (hit[2] || 0).toFixed(2) +
      "\nvelocity " + (hit[3] || 0).toFixed(2);
    self.tip.style.left = (e.offsetX + 12) + "px"; self.tip.style.top = (e.offsetY + 12) + "px";
    self.tip.style.display = "block";
  });
  cv.addEventListener("mouseleave", function () { self.tip.style.display = "none"; });
  this.scroll.addEventListener("input", function () {
    self.view.t0 = parseFloat(self.scroll.value) || 0; self.follow = false; self.draw();
  });
  window.addEventListener("resize", function () { self.draw(); });
};

window.HeihachiTimeline = Timeline;
})();
