/* The explorer: jobs and result folders, a track's timeline with playback, upload with
   progress, and search over the semantic index. It reads only the server's /api/v1
   (the same API the Python client uses). No dependencies, no CDN. */
(function () {
"use strict";
var API = "api/v1";
var $ = function (id) { return document.getElementById(id); };
var S = {readOnly: false, key: localStorage.getItem("heihachi-api-key") || "",
         job: null, base: null, track: null, audioUrl: null, polling: null, objectUrl: null};
var player = $("player");
var tl = new window.HeihachiTimeline($("timeline"), $("tip"), $("scroll"), player);

function rel(url) { return url.replace(/^\//, ""); }  /* works under any path prefix */

function headers() { return S.key ? {"Authorization": "Bearer " + S.key} : {}; }

function api(path, opts) {
  opts = opts || {};
  opts.headers = Object.assign({}, headers(), opts.headers || {});
  return fetch(rel(path), opts).then(function (r) {
    return r.json().catch(function () { return {}; }).then(function (body) {
      if (r.status === 401 || r.status === 403) { $("key-box").hidden = false; }
      if (!r.ok) {
        var err = new Error(body.message || ("HTTP " + r.status)); err.status = r.status;
        throw err;
      }
      return body;
    });
  });
}

function text(el, msg, isError) {
  el.textContent = msg; el.classList.toggle("error", !!isError);
}

function clock(t) {
  var m = Math.floor(t / 60), s = t - 60 * m;
  return m + ":" + (s < 10 ? "0" : "") + s.toFixed(2);
}

function li(label, cls, onClick) {
  var el = document.createElement("li");
  el.textContent = label; if (cls) el.className = cls;
  if (onClick) el.addEventListener("click", onClick);
  return el;
}

/* ---- jobs and folders ---------------------------------------------------------------- */
function loadList() {
  if (S.readOnly) {
    return api(API + "/results/tracks").then(function (tracks) {
      var ul = $("job-list"); ul.textContent = "";
      tracks.forEach(function (t) {
        ul.appendChild(li(t.track + "  [" + t.tasks.join(", ") + "]", "",
          function () { openTrack(API + "/results", t.track); }));
      });
      if (!tracks.length) ul.appendChild(li("no tracks in this folder", "hint"));
    });
  }
  return api(API + "/jobs?limit=50").then(function (doc) {
    var ul = $("job-list"); ul.textContent = "";
    var busy = false;
    doc.jobs.forEach(function (j) {
      busy = busy || j.status === "queued" || j.status === "running";
      var names = j.inputs.map(function (i) { return i.name; }).join(", ") || "(query)";
      var el = li(j.task + ": " + names + " - " + j.status, "st-" + j.status,
                  function () { openJob(j.id); });
      el.dataset.job = j.id; el.dataset.status = j.status;
      ul.appendChild(el);
    });
    if (!doc.jobs.length) ul.appendChild(li("no jobs yet", "hint"));
    schedule(busy);
  });
}

function schedule(busy) {
  if (S.polling) { clearTimeout(S.polling); S.polling = null; }
  if (busy) S.polling = setTimeout(function () { loadList().catch(showListError); }, 1000);
}

function showListError(e) { $("job-list").textContent = ""; $("job-list").appendChild(
  li("cannot list: " + e.message, "st-failed")); }

function openJob(id) {
  return api(API + "/jobs/" + id).then(function (job) {
    S.job = job;
    $("empty").hidden = true; $("track-view").hidden = true; $("job-view").hidden = false;
    $("job-title").textContent = job.task + " job " + id.slice(0, 8);
    var meta = job.status + (job.error ? ": " + job.error : "");
    if (job.result && job.result.counts) {
      var c = job.result.counts; meta += " - " + c.ok + " ok, " + c.failed + " failed";
    }
    if (job.result && job.result.index) meta += " - " + job.result.index.added + " added to the index";
    text($("job-meta"), meta, job.status === "failed");
    var ul = $("track-list"); ul.textContent = "";
    job.tracks.forEach(function (t) {
      var el = li(t, "", function () { openTrack(API + "/jobs/" + id, t); });
      el.dataset.track = t; ul.appendChild(el);
    });
    var files = $("file-list"); files.textContent = "";
    job.files.forEach(function (f) {
      var item = document.createElement("li"), a = document.createElement("a");
      a.textContent = f; a.href = API + "/jobs/" + id + "/files/" + f.split("/").map(
        encodeURIComponent).join("/");
      a.target = "_blank"; item.appendChild(a); files.appendChild(item);
    });
    return job;
  });
}

/* ---- one track ----------------------------------------------------------------------- */
function openTrack(base, track, seek) {
  var t = encodeURIComponent(track);
  return Promise.all([api(base + "/tracks/" + t),
                      api(base + "/tracks/" + t + "/waveform?points=4000")])
    .then(function (res) {
      var doc = res[0];
      S.base = base; S.track = track;
      $("empty").hidden = true; $("job-view").hidden = true; $("track-view").hidden = false;
      $("track-title").textContent = track;
      var meta = $("track-meta"); meta.textContent = "";
      var chips = [];
      if (doc.tempo) chips.push(doc.tempo.toFixed(1) + " BPM");
      if (doc.key) chips.push("key " + doc.key);
      chips.push(doc.hits.length + " hits", doc.beats.length + " beats");
      if (doc.sections.length) chips.push(doc.sections.length + " sections");
      Object.keys(doc.tags || {}).forEach(function (c) { chips.push(c + ": " + doc.tags[c]); });
      chips.forEach(function (c) {
        var s = document.createElement("span"); s.className = "chip"; s.textContent = c;
        meta.appendChild(s);
      });
      legend(doc);
      tl.setData(doc, res[1]);
      return setAudio(base + "/tracks/" + t + "/audio").then(function () {
        if (seek !== undefined) { player.currentTime = seek; tl.follow = true; tl.tick(); }
        return doc;
      });
    });
}

function legend(doc) {
  var el = $("legend"); el.textContent = "";
  (doc.classes || []).forEach(function (c) {
    var n = doc.hits.filter(function (h) { return h[1] === c; }).length;
    var s = document.createElement("span"); s.textContent = c + " " + n; el.appendChild(s);
  });
}

function setAudio(url) {
  /* With an API key the audio is fetched with the header and played from a blob URL;
     without one the element streams it (range requests) straight from the server. */
  if (S.audioUrl === url) return Promise.resolve();
  S.audioUrl = url;
  if (S.objectUrl) { URL.revokeObjectURL(S.objectUrl); S.objectUrl = null; }
  if (!S.key) { player.src = rel(url); return Promise.resolve(); }
  return fetch(rel(url), {headers: headers()}).then(function (r) {
    if (!r.ok) throw new Error("audio: HTTP " + r.status);
    return r.blob();
  }).then(function (b) { S.objectUrl = URL.createObjectURL(b); player.src = S.objectUrl; });
}

function togglePlay() {
  if (player.paused) {
    tl.follow = true;
    return player.play().catch(function (e) { text($("upload-status"), "play: " + e.message, true); });
  }
  player.pause();
}

function frame() {
  $("clock").textContent = clock(player.currentTime || 0);
  if (!player.paused) tl.tick();
  requestAnimationFrame(frame);
}

player.addEventListener("play", function () { $("play").textContent = "Pause"; });
player.addEventListener("pause", function () { $("play").textContent = "Play"; tl.draw(); });
player.addEventListener("seeked", function () { tl.draw(); });

/* ---- upload -------------------------------------------------------------------------- */
function upload(ev) {
  ev.preventDefault();
  var file = $("upload-file").files[0], task = $("upload-task").value;
  if (file) sendUpload(file, task, 0);
}

/* A busy server (429, or 503: queue full or too many uploads at once) answers before it
   reads the body; the upload is sent again after its Retry-After, a few times. */
var UPLOAD_RETRIES = 5;
function sendUpload(file, task, attempt) {
  var form = new FormData(); form.append("file", file);
  var xhr = new XMLHttpRequest(), bar = $("upload-progress"), status = $("upload-status");
  bar.value = 0; text(status, "uploading " + file.name + " ...");
  xhr.upload.addEventListener("progress", function (e) {
    if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total);
  });
  xhr.addEventListener("load", function () {
    var body = {}; try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
    if (xhr.status === 202 || xhr.status === 200) {
      bar.value = 100;
      status.dataset.job = body.id;
      text(status, "accepted: job " + body.id.slice(0, 8) + " (" + task + ")");
      loadList().catch(showListError);
    } else if ((xhr.status === 429 || xhr.status === 503) && attempt < UPLOAD_RETRIES) {
      var wait = Math.min(30, parseFloat(xhr.getResponseHeader("Retry-After")) || 1);
      text(status, "server busy (" + (body.message || xhr.status) + "): retrying in " + wait + " s");
      setTimeout(function () { sendUpload(file, task, attempt + 1); }, 1000 * wait);
    } else {
      if (xhr.status === 401 || xhr.status === 403) $("key-box").hidden = false;
      text(status, "refused (" + xhr.status + "): " + (body.message || xhr.statusText), true);
    }
  });
  xhr.addEventListener("error", function () { text(status, "upload failed: network error", true); });
  xhr.open("POST", API + "/" + task);
  if (S.key) xhr.setRequestHeader("Authorization", "Bearer " + S.key);
  xhr.send(form);
}

/* ---- search -------------------------------------------------------------------------- */
function search(ev, file) {
  if (ev) ev.preventDefault();
  var q = $("search-text").value.trim(), form = new FormData(), status = $("search-status");
  if (file) form.append("file", file); else if (q) form.append("text", q); else return;
  form.append("k", "10");
  text(status, "searching ...");
  return api(API + "/semantic/search", {method: "POST", body: form}).then(function (doc) {
    return doc.status === "done" || doc.status === "failed" ? doc : pollJob(doc.id);
  }).then(function (job) {
    if (job.status === "failed") throw new Error(job.error || "search failed");
    showHits(job.result.hits);
    text(status, job.result.hits.length + " hits");
  }).catch(function (e) { text(status, e.message, true); });
}

function pollJob(id) {
  return new Promise(function (resolve, reject) {
    (function again() {
      api(API + "/jobs/" + id).then(function (j) {
        if (j.status === "done" || j.status === "failed") resolve(j);
        else setTimeout(again, 500);
      }, reject);
    })();
  });
}

function showHits(hits) {
  var ol = $("search-hits"); ol.textContent = "";
  hits.forEach(function (h) {
    var el = document.createElement("li");
    el.textContent = h.track + "  " + clock(h.start) + "-" + clock(h.end) + "  (" +
      h.score.toFixed(3) + ")";
    if (h.audio) {
      var b = document.createElement("button"); b.type = "button"; b.textContent = "play";
      b.className = "play-hit";
      b.addEventListener("click", function () { playHit(h); });
      el.appendChild(b);
    }
    ol.appendChild(el);
  });
}

function playHit(h) {
  /* a hit from an analysed track opens its timeline; any hit plays from its start */
  var open = h.job && h.track_name ?
    api(API + "/jobs/" + h.job + "/tracks").then(function (tracks) {
      var has = tracks.some(function (t) { return t.track === h.track_name; });
      return has ? openTrack(API + "/jobs/" + h.job, h.track_name, h.start) : null;
    }) : Promise.resolve(null);
  return open.then(function (doc) {
    if (!doc) return setAudio(h.audio).then(function () {
      player.currentTime = h.start;
    });
  }).then(function () { return player.play(); })
    .catch(function (e) { text($("search-status"), "play: " + e.message, true); });
}

/* ---- start --------------------------------------------------------------------------- */
function init() {
  $("upload-form").addEventListener("submit", upload);
  $("search-form").addEventListener("submit", search);
  $("search-file").addEventListener("change", function () {
    if (this.files[0]) search(null, this.files[0]);
  });
  $("play").addEventListener("click", togglePlay);
  $("zoom-in").addEventListener("click", function () { tl.zoom(0.5); });
  $("zoom-out").addEventListener("click", function () { tl.zoom(2); });
  $("zoom-all").addEventListener("click", function () {
    tl.view.t0 = 0; tl.view.span = tl.duration(); tl.draw();
  });
  $("api-key").value = S.key;
  $("key-box").addEventListener("submit", function (ev) {
    ev.preventDefault(); S.key = $("api-key").value.trim(); localStorage.setItem("heihachi-api-key", S.key);
    start();
  });
  requestAnimationFrame(frame);
  start();
}

function start() {
  return api(API + "/health").then(function (h) {
    S.readOnly = h.read_only;
    $("mode").textContent = h.read_only ? "browsing a results folder (read-only)" :
      "queue " + h.queue_depth + ", " + h.workers.length + " worker(s)";
    $("upload-panel").hidden = h.read_only; $("search-panel").hidden = h.read_only;
    $("list-title").textContent = h.read_only ? "Tracks" : "Jobs";
    return loadList();
  }).catch(showListError);
}

window.heihachiExplorer = {state: S, timeline: tl, openJob: openJob, openTrack: openTrack,
                           loadList: loadList, search: search, playHit: playHit};
init();
})();
