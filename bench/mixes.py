"""Continuous DJ mixes built from real tracks of Debian's music packages, with known cues.

The tracks are the soundtracks of free games packaged by Debian (none of the packages
reserved for external evaluation in shared/notes/drum-data.md):

- ``singularity-music`` (Endgame: Singularity, 13 electronic tracks, 3.5-6 min),
- ``hyperrogue-music`` (HyperRogue, 17 tracks of 1-2 min: shorter than some blends),
- ``asc-music`` (Advanced Strategic Command, 3 tracks),
- ``planetblupi-music-ogg`` (Planet Blupi, 10 long tracks; 2-4 minutes of each are used).

A mix plays a random sequence of tracks. At each transition the incoming track is
**beat-matched** when its tempo (librosa's tracker, on the part used) is within 12 % of
the outgoing one's (or of its double or half): it is resampled to the outgoing tempo,
pitch moving with it as on a turntable, and placed so its beats fall on the outgoing
track's beats; otherwise it is not stretched. The blend is one of: a **cut** (no
overlap), a **fade** (4-10 s crossfade) or a **long blend** (8-32 bars, equal-power
crossfade). The answer of a transition is the time its gains cross (the middle of the
blend), the blend length, its type and whether it was beat-matched. Keys are never
matched (clashes happen), the mix tempo drifts as each new track sets it, and a track
shorter than the blend asked for shortens the blend.
"""

from __future__ import annotations

import functools
import glob
from dataclasses import dataclass

import numpy as np

SR = 22_050
PACKAGES = {
    "singularity-music": "/usr/share/games/singularity/music/*.ogg",
    "hyperrogue-music": "/usr/share/hyperrogue/music/*.ogg",
    "asc-music": "/usr/share/games/asc/music/*.mp3",
    "planetblupi-music-ogg": "/usr/share/planetblupi/music/*.ogg",
}
MAX_TRACK_S = 240.0
MAX_PITCH = 0.12  # a deck's pitch fader range used for beat-matching (+-12 %)


def track_paths() -> list[str]:
    paths = sorted(p for pattern in PACKAGES.values() for p in glob.glob(pattern))
    if len(paths) < 8:
        raise SystemExit("too few tracks: apt-get install " + " ".join(PACKAGES))
    return paths


@functools.cache
def load_track(path: str) -> tuple[np.ndarray, float, np.ndarray]:
    """``(mono audio at SR, tempo BPM, beat times)`` of at most MAX_TRACK_S of ``path``."""
    import librosa
    import soundfile as sf
    import soxr

    with sf.SoundFile(path) as f:
        x = f.read(int(min(f.frames, MAX_TRACK_S * f.samplerate)), dtype="float32",
                   always_2d=True).mean(axis=1)
        sr = f.samplerate
    x = soxr.resample(x, sr, SR).astype(np.float32)
    tempo, beats = librosa.beat.beat_track(y=x, sr=SR, units="time")
    return x, float(np.atleast_1d(tempo)[0]), np.asarray(beats)


@dataclass
class Transition:
    time: float  # where the gains cross
    blend_s: float
    kind: str  # cut | fade | long blend
    beatmatched: bool


def _match_ratio(t_out: float, t_in: float) -> float | None:
    """Speed factor for the incoming track so its tempo meets the outgoing one (allowing
    double/half time), or None when more than MAX_PITCH away."""
    for mult in (1.0, 2.0, 0.5):
        r = t_out * mult / t_in
        if abs(r - 1.0) <= MAX_PITCH:
            return r
    return None


def build_mix(seed: int, n_tracks: int = 7) -> tuple[np.ndarray, list[Transition], list[str]]:
    """A mono mix at :data:`SR`, its transitions and the track paths in order."""
    import soxr

    rng = np.random.default_rng(seed)
    paths = list(track_paths())
    order: list[str] = []
    mix = np.zeros(0, np.float32)
    transitions: list[Transition] = []
    tempo_now = None
    beats_now = np.zeros(0)  # beat times of the playing track, in mix time
    play_prev = 0.0
    for k in range(n_tracks):
        # a DJ often picks a track of a compatible tempo next: do so 60 % of the time
        pool = [p for p in paths if p not in order]
        if tempo_now and rng.random() < 0.6:
            fits = [p for p in pool if _match_ratio(tempo_now, load_track(p)[1]) is not None]
            pool = fits or pool
        path = pool[int(rng.integers(len(pool)))]
        order.append(path)
        x, tempo, beats = load_track(path)
        ratio = _match_ratio(tempo_now, tempo) if tempo_now else None
        if ratio is not None and abs(ratio - 1.0) > 1e-3:
            x = soxr.resample(x, SR * ratio, SR).astype(np.float32)
            beats = beats / ratio
            tempo = tempo * ratio
        x = x / (np.sqrt(np.mean(x ** 2)) + 1e-9) * 0.1  # level-match the tracks
        play = min(len(x) / SR, float(rng.uniform(70, 150)))
        if k == 0:
            mix = x[:int(play * SR)].copy()
            tempo_now, beats_now, play_prev = tempo, beats[beats < play], play
            continue
        kind = str(rng.choice(["cut", "fade", "long blend", "long blend"]))
        bar = 4 * 60.0 / (tempo_now or 120.0)
        blend = {"cut": 0.0, "fade": float(rng.uniform(4, 10)),
                 "long blend": float(rng.integers(8, 33)) * bar}[kind]
        blend = min(blend, 0.4 * play, 0.4 * play_prev)  # short tracks shorten it
        start = len(mix) / SR - blend  # the incoming track starts here (mix time)
        matched = ratio is not None and len(beats) and len(beats_now)
        if matched:  # move the start to the outgoing beat nearest, minus the first beat
            near = beats_now[np.argmin(np.abs(beats_now - start))]
            start = max(0.0, near - float(beats[0]))
        a = int(round(start * SR))  # noqa: RUF046
        seg = x[:int(play * SR)]
        n_blend = min(len(mix) - a, len(seg))
        out = np.zeros(a + len(seg), np.float32)
        out[:len(mix)] = mix
        if n_blend > 0:
            g = np.linspace(0, np.pi / 2, n_blend)
            out[a:a + n_blend] *= np.cos(g).astype(np.float32)
            out[a:a + n_blend] += seg[:n_blend] * np.sin(g).astype(np.float32)
            out[a + n_blend:] = seg[n_blend:]
            cross = start + n_blend / SR / 2
        else:
            out[a:] = seg
            cross = start
        blend_s = max(0.0, n_blend / SR)  # what was played, after alignment and clamping
        kind = "cut" if blend_s < 1.0 else "fade" if blend_s < 12.0 else "long blend"
        transitions.append(Transition(cross, blend_s, kind, bool(matched)))
        mix = out
        tempo_now, play_prev = tempo, play
        beats_now = beats[beats < play] + start
    return mix / (np.abs(mix).max() + 1e-9) * 0.8, transitions, order
