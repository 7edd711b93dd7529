"""Duplicate detection through the semantic index: top-1 rate per alteration.

Real test tracks: the three GPL-2+ tracks of Debian's `asc-music` package
(`apt-get install asc-music`), each cut into non-overlapping 30 s excerpts, so
excerpts of the same song (same mix, same instruments) are one another's
hardest negatives. Each excerpt is indexed once with the model-free `spectral`
extractor; then altered copies (mp3 at 128 kbps, ogg, resampled to 22.05 kHz,
gain -6 dB, first 2 s trimmed, mono) query the index with `index search --audio`
semantics (segment votes, one hit per track). The baseline in the same run is
the naive fingerprint: one mean/std log-mel vector per file, cosine top-1.

`--set dj` is the harder set: up to two 30 s excerpts (202) of each real track of at
least 30 s (106 of the 115) of six Debian music packages (`apt-get install asc-music
singularity-music hyperrogue-music planetblupi-music-ogg drascula-music
wesnoth-1.16-music`; none is
reserved for the drum evaluation), with the copies a DJ mix makes on top: played 3 %
faster or slower (pitch and tempo, a turntable's pitch fader) and stretched 3 % (tempo
only, key lock). Besides the exact excerpt, the table counts a hit on the right source
track ("same track"): two excerpts of one looping track can hold the very same audio.

    python bench/duplicates.py [--music-dir DIR ...] [--excerpt 30] [--set asc|dj]
        [--cache DIR] [--only ALTERATION ...] [--tracks SUBSTRING ...] [--misses]

`--cache DIR` keeps the excerpts, their index and the altered copies in DIR, so a rerun
embeds only the queries (the dj set's index and copies take most of an hour on 2 cores).
`--only` and `--tracks` query a subset (the index still holds every excerpt), and
`--misses` prints each miss with what it matched instead and both scores.
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ALTERATIONS = ("mp3_128k", "ogg", "resample_22k", "gain_-6dB", "trim_2s", "mono")
DJ_ALTERATIONS = (*ALTERATIONS, "speed_+3%", "speed_-3%", "stretch_+3%", "stretch_-3%")
DJ_DIRS = ("/usr/share/games/asc/music", "/usr/share/games/singularity/music",
           "/usr/share/hyperrogue/music", "/usr/share/planetblupi/music",
           "/usr/share/scummvm/drascula/audio", "/usr/share/games/wesnoth/1.16/data/core/music")


def excerpts(music_dirs: list[Path], seconds: float, out: Path, per_track: int | None = None
             ) -> list[Path]:
    """Non-overlapping excerpts of every track (``per_track``: at most so many, centred)."""
    from heihachi.runtime.audio import load

    listing = out / "excerpts.txt"  # a cache's excerpts, written when the last one is
    if listing.is_file():
        return [out / name for name in listing.read_text().split()]
    paths = []
    for src in sorted(p for d in music_dirs for p in d.iterdir()
                      if p.suffix.lower() in (".mp3", ".ogg", ".flac", ".wav")):
        x = load(src, 44_100, 2)
        n = int(seconds * 44_100)
        k = x.shape[1] // n if per_track is None else min(per_track, x.shape[1] // n)
        first = 0 if per_track is None else (x.shape[1] - k * n) // 2
        for i in range(k):
            p = out / f"{src.parent.name}_{src.stem}_{i:02d}.wav".replace(" ", "_")
            start = first + i * n
            sf.write(p, x[:, start:start + n].T, 44_100, subtype="PCM_16")
            paths.append(p)
    listing.write_text("".join(f"{p.name}\n" for p in paths))
    return paths


def alter(path: Path, how: str, out: Path) -> Path:
    """The copy of ``path`` altered ``how``, in ``out/how/`` (one folder per alteration,
    as the copies' names differ only by suffix); reused when that folder already holds it."""
    folder = out / how
    done = [t for t in (folder / f"{path.stem}{e}" for e in (".mp3", ".ogg", ".wav"))
            if t.is_file()]
    if done:  # a cached copy (moved in whole below, so never a partial one)
        return done[0]
    part = out / "partial"
    part.mkdir(parents=True, exist_ok=True)
    folder.mkdir(exist_ok=True)
    made = _alter(path, how, part)
    return made.replace(folder / made.name)


def _alter(path: Path, how: str, out: Path) -> Path:
    """``path`` altered ``how``, written into ``out``."""
    import lameenc
    import soxr

    x, sr = sf.read(path, dtype="float32", always_2d=True)
    target = out / f"{path.stem}.{how}"
    if how == "mp3_128k":
        enc = lameenc.Encoder()
        enc.set_bit_rate(128)
        enc.set_in_sample_rate(sr)
        enc.set_channels(x.shape[1])
        enc.set_quality(2)
        pcm = (np.clip(x, -1, 1) * 32767).astype(np.int16)
        data = enc.encode(pcm.tobytes()) + enc.flush()
        target = target.with_suffix(".mp3")
        target.write_bytes(data)
        return target
    if how == "ogg":
        target = target.with_suffix(".ogg")
        sf.write(target, x, sr, format="OGG", subtype="VORBIS")
        return target
    target = target.with_suffix(".wav")
    if how.startswith(("speed_", "stretch_")):
        rate = 1 + float(how.split("_")[1].rstrip("%")) / 100
        if how.startswith("speed_"):  # played faster: pitch and tempo together
            y = soxr.resample(x, sr, sr / rate)
        else:  # key lock: tempo only (librosa's phase vocoder, a dev dependency)
            import librosa

            y = np.stack([librosa.effects.time_stretch(c, rate=rate) for c in x.T], axis=1)
        sf.write(target, y, sr)
        return target
    if how == "mono":
        sf.write(target, x.mean(axis=1), sr, subtype="PCM_16")
    elif how == "resample_22k":
        sf.write(target, soxr.resample(x, sr, 22_050), 22_050)
    elif how == "gain_-6dB":
        sf.write(target, x * 10 ** (-6 / 20), sr)
    elif how == "trim_2s":
        sf.write(target, x[2 * sr:], sr)
    return target


def naive_vector(path: Path) -> np.ndarray:
    """Mean and std of the log-mel spectrogram: the fingerprint people reach for first."""
    from heihachi.plugins.spectral import _mel_filterbank
    from heihachi.runtime.audio import load

    x = load(path, 22_050, 1)[0]
    frames = np.lib.stride_tricks.sliding_window_view(x, 2048)[::512]
    spec = np.abs(np.fft.rfft(frames * np.hanning(2048), axis=1)) ** 2
    logmel = np.log(spec @ _mel_filterbank(22_050, 2048, 64).T + 1e-8)
    v = np.concatenate([logmel.mean(0), logmel.std(0)])
    return v / np.linalg.norm(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=("asc", "dj"), default="asc")
    ap.add_argument("--music-dir", type=Path, nargs="+")
    ap.add_argument("--excerpt", type=float, default=30.0)
    ap.add_argument("--cache", type=Path, help="keep excerpts, index and copies here")
    ap.add_argument("--only", nargs="+", metavar="ALTERATION", help="these alterations only")
    ap.add_argument("--tracks", nargs="+", metavar="SUBSTRING",
                    help="query only excerpts whose name contains one of these")
    ap.add_argument("--misses", action="store_true", help="print every miss")
    args = ap.parse_args()
    dirs = args.music_dir or [Path(d) for d in (DJ_DIRS if args.set == "dj"
                                                  else DJ_DIRS[:1])]
    missing = [d for d in dirs if not d.is_dir()]
    if missing:
        raise SystemExit(f"missing {', '.join(map(str, missing))}: `apt-get install asc-music "
                         "singularity-music hyperrogue-music planetblupi-music-ogg "
                         "drascula-music wesnoth-1.16-music`")
    alterations = DJ_ALTERATIONS if args.set == "dj" else ALTERATIONS
    if args.only:
        unknown = set(args.only) - set(alterations)
        if unknown:
            raise SystemExit(f"unknown alteration(s) {sorted(unknown)}: {list(alterations)}")
        alterations = tuple(a for a in alterations if a in args.only)

    with contextlib.ExitStack() as stack:
        if args.cache:
            key = f"{args.set} {args.excerpt} {' '.join(map(str, dirs))}\n"
            tmp = args.cache / f"{args.set}_{args.excerpt:g}s"
            tmp.mkdir(parents=True, exist_ok=True)
            stamp = tmp / "params.txt"
            if stamp.is_file() and stamp.read_text() != key:
                raise SystemExit(f"{tmp} caches another set ({stamp.read_text().strip()})")
            stamp.write_text(key)
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        run(args, dirs, alterations, tmp)


def run(args: argparse.Namespace, dirs: list[Path], alterations: tuple[str, ...],
        tmp: Path) -> None:
    """Index the excerpts (once per cache), then query every chosen copy and print rates."""
    from heihachi.index import collection as indexing

    overrides = ["index.embedder=extractor", "extractor=spectral"]
    (tmp / "orig").mkdir(exist_ok=True)
    (tmp / "alt").mkdir(exist_ok=True)
    t0 = time.perf_counter()
    originals = excerpts(dirs, args.excerpt, tmp / "orig",
                         per_track=2 if args.set == "dj" else None)
    index_dir = tmp / "index"
    report = indexing.add(index_dir, [str(tmp / "orig")], overrides, progress=False)
    assert not report["failed"], report
    naive_db = np.stack([naive_vector(p) for p in originals])
    queried = [i for i, p in enumerate(originals)
               if not args.tracks or any(t in p.name for t in args.tracks)]
    print(f"{len(originals)} excerpts of {args.excerpt:.0f} s from "
          f"{', '.join(map(str, dirs))} (index ready in {time.perf_counter() - t0:.0f} s)")
    if len(queried) < len(originals):
        print(f"querying a subset: {len(queried)} of {len(originals)} excerpts")
    print(f"{'alteration':<14} {'heihachi index':>15} {'same track':>11} {'naive mean/std':>15} "
          f"{'time s':>8}")
    total = naive_total = track_total = 0
    for how in alterations:
        ok = naive_ok = track_ok = 0
        t1 = time.perf_counter()
        for i in queried:
            p = originals[i]
            q = alter(p, how, tmp / "alt")
            hits = indexing.search_audio(index_dir, str(q), 5, True, overrides)
            found = bool(hits) and Path(hits[0].track).name == p.name
            ok += found
            track_ok += bool(hits) and _source(Path(hits[0].track)) == _source(p)
            naive_ok += int(np.argmax(naive_db @ naive_vector(q)) == i)
            if args.misses and not found:
                mine = [h.score for h in hits if Path(h.track).name == p.name]
                print(f"  miss {how} {p.name}: top {Path(hits[0].track).name} "
                      f"{hits[0].score:.4f}, true "
                      f"{f'{mine[0]:.4f}' if mine else 'not in top 5'}")
        total += ok
        naive_total += naive_ok
        track_total += track_ok
        n = len(queried)
        print(f"{how:<14} {ok / n:>15.3f} {track_ok / n:>11.3f} {naive_ok / n:>15.3f} "
              f"{time.perf_counter() - t1:>8.0f}", flush=True)
    n = len(queried) * len(alterations)
    print(f"{'overall':<14} {total / n:>15.3f} {track_total / n:>11.3f} {naive_total / n:>15.3f} "
          f"{time.perf_counter() - t0:>8.0f}")


def _source(excerpt: Path) -> str:
    """The source track of an excerpt file (its name without the ``_NN`` excerpt number)."""
    return excerpt.stem.rsplit("_", 1)[0]


if __name__ == "__main__":
    main()
