"""Clips in known keys, rendered from MIDI with Debian's General MIDI SoundFonts.

Each clip is a few bars of what electronic music is made of: a chord progression on a
pad or keys, a bass line on the chord roots, often an arpeggio or lead on the scale and
sometimes GM drums, at 100-175 BPM, in one of the 24 keys, rendered by ``fluidsynth``
from FluidR3_GM or TimGM6mb (the SoundFonts heihachi_train.drumnet.soundfonts finds).
The progressions are common ones of dance music in both modes, including ones that
start away from the tonic (so the first chord is not the answer) and ones that lean on
the relative key; the key written is the answer.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # heihachi_train

from heihachi_train.drumnet.soundfonts import soundfont_path

SR = 22_050
SOUNDFONTS = ("FluidR3_GM.sf2", "TimGM6mb.sf2")

# Scale degrees (semitones above the tonic) of each chord, root first.
MAJOR_PROGRESSIONS = (
    ((0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12)),        # I V vi IV
    ((0, 4, 7), (5, 9, 12), (7, 11, 14), (5, 9, 12)),         # I IV V IV
    ((0, 4, 7), (9, 12, 16), (5, 9, 12), (7, 11, 14)),        # I vi IV V
    ((5, 9, 12), (0, 4, 7), (7, 11, 14), (9, 12, 16)),        # IV I V vi
    ((0, 4, 7, 11), (2, 5, 9, 12), (4, 7, 11, 14), (5, 9, 12, 16)),  # Imaj7 ii7 iii7 IVmaj7
    ((0, 4, 7), (4, 7, 11), (5, 9, 12), (7, 11, 14)),         # I iii IV V
)
MINOR_PROGRESSIONS = (
    ((0, 3, 7), (8, 12, 15), (3, 7, 10), (10, 14, 17)),       # i VI III VII
    ((0, 3, 7), (10, 14, 17), (8, 12, 15), (10, 14, 17)),     # i VII VI VII
    ((0, 3, 7), (5, 8, 12), (7, 10, 14), (0, 3, 7)),          # i iv v i
    ((0, 3, 7), (8, 12, 15), (5, 8, 12), (7, 11, 14)),        # i VI iv V
    ((8, 12, 15), (10, 14, 17), (0, 3, 7), (0, 3, 7)),        # VI VII i i
    ((0, 3, 7, 10), (5, 8, 12, 15), (0, 3, 7, 10), (7, 10, 14, 17)),  # i7 iv7 i7 v7
)
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)

# GM programs (0-based): pads, keys and strings for chords; synth and electric basses;
# leads and plucks for arpeggios.
CHORD_PROGRAMS = (88, 89, 90, 91, 94, 95, 4, 5, 48, 50, 0, 16)
BASS_PROGRAMS = (38, 39, 33, 34, 35, 87)
LEAD_PROGRAMS = (80, 81, 82, 84, 11, 8, 98, 24)


@dataclass
class KeyClip:
    audio: np.ndarray  # float32 mono at SR
    tonic: int  # pitch class, C = 0
    mode: str  # "major" | "minor"
    tempo: float
    soundfont: str
    description: str

    @property
    def key(self) -> str:
        from heihachi.music.key import key_name

        return key_name(self.tonic, self.mode)


def _score(rng: np.random.Generator, tonic: int, mode: str, tempo: float,
           bars: int) -> tuple[object, str]:
    import mido

    tpb = 480
    beat = tpb
    prog_index = int(rng.integers(len(MAJOR_PROGRESSIONS)))
    prog = (MAJOR_PROGRESSIONS if mode == "major" else MINOR_PROGRESSIONS)[prog_index]
    scale = MAJOR_SCALE if mode == "major" else MINOR_SCALE
    chord_prog = int(rng.choice(CHORD_PROGRAMS))
    bass_prog = int(rng.choice(BASS_PROGRAMS))
    lead_prog = int(rng.choice(LEAD_PROGRAMS))
    with_lead = rng.random() < 0.7
    with_drums = rng.random() < 0.5
    chord_oct = 48 + int(rng.integers(0, 2)) * 12  # C3 or C4 register
    root = 36 + tonic if tonic < 8 else 24 + tonic  # bass tonic in E1..D#2 range
    events: list[tuple[int, mido.Message]] = []

    def note(t: int, dur: int, ch: int, pitch: int, vel: int) -> None:
        events.append((t, mido.Message("note_on", channel=ch, note=pitch, velocity=vel)))
        events.append((t + dur, mido.Message("note_off", channel=ch, note=pitch, velocity=0)))

    bar = 4 * beat
    chord_len = int(rng.choice([1, 2]))  # bars per chord
    bass_rhythm = int(rng.integers(3))
    for b in range(bars):
        chord = prog[(b // chord_len) % len(prog)]
        t0 = b * bar
        if b % chord_len == 0:
            for deg in chord:
                note(t0, chord_len * bar - 20, 0, chord_oct + tonic % 12 + deg, 70)
        bass = root + chord[0] % 12
        if bass_rhythm == 0:  # offbeat 8ths
            for k in range(4):
                note(t0 + k * beat + beat // 2, beat // 2 - 10, 1, bass, 95)
        elif bass_rhythm == 1:  # long notes
            note(t0, 2 * beat - 10, 1, bass, 100)
            note(t0 + 2 * beat + beat // 2, beat + beat // 2 - 10, 1, bass, 90)
        else:  # rolling 8ths with an octave
            for k in range(8):
                note(t0 + k * beat // 2, beat // 2 - 10, 1, bass + (12 if k % 4 == 3 else 0), 90)
        if with_lead:
            for k in range(8):
                if rng.random() < 0.25:
                    continue
                if rng.random() < 0.6:  # arpeggio on the chord
                    deg = chord[k % len(chord)]
                else:  # a step of the scale
                    deg = scale[int(rng.integers(len(scale)))]
                note(t0 + k * beat // 2, beat // 2 - 10, 2, 72 + tonic % 12 + deg % 12 - 12
                     * (deg % 12 + tonic % 12 >= 12), int(rng.integers(60, 100)))
        if with_drums:
            for k in range(4):
                note(t0 + k * beat, 60, 9, 36, 110)  # kick on every beat
                note(t0 + k * beat + beat // 2, 30, 9, 42, 70)  # off-beat hats
            note(t0 + beat, 60, 9, 38, 100)
            note(t0 + 3 * beat, 60, 9, 38, 100)
    mid = mido.MidiFile(ticks_per_beat=tpb)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0))
    for ch, p in ((0, chord_prog), (1, bass_prog), (2, lead_prog)):
        tr.append(mido.Message("program_change", channel=ch, program=p, time=0))
    now = 0
    for t, msg in sorted(events, key=lambda e: (e[0], e[1].type == "note_on")):
        tr.append(msg.copy(time=t - now))
        now = t
    tr.append(mido.MetaMessage("end_of_track", time=tpb))
    desc = (f"progression={mode[:3]}{prog_index} chords={chord_prog} bass={bass_prog} "
            f"lead={lead_prog if with_lead else '-'} drums={'yes' if with_drums else 'no'}")
    return mid, desc


def render_midi(mid: object, soundfont: str, sample_rate: int = SR) -> np.ndarray:
    """Render a mido MidiFile with fluidsynth (reverb and chorus as the SoundFont sets
    them); returns mono float32 at ``sample_rate``."""
    import soundfile as sf

    exe = shutil.which("fluidsynth")
    if exe is None:
        raise FileNotFoundError("fluidsynth not found; apt-get install fluidsynth "
                                "fluid-soundfont-gm timgm6mb-soundfont")
    with tempfile.TemporaryDirectory(prefix="heihachi-key-") as tmp:
        mpath, wpath = Path(tmp) / "clip.mid", Path(tmp) / "clip.wav"
        mid.save(str(mpath))  # type: ignore[attr-defined]
        cmd = [exe, "-n", "-i", "-q", "-g", "0.6", "-r", str(sample_rate), "-O", "float",
               "-T", "wav", "-F", str(wpath), str(soundfont_path(soundfont)), str(mpath)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0 or not wpath.is_file():
            raise RuntimeError(f"fluidsynth failed: {res.stderr.strip()}")
        audio, sr = sf.read(str(wpath), dtype="float32", always_2d=True)
    if sr != sample_rate:
        raise RuntimeError(f"fluidsynth wrote {sr} Hz, asked for {sample_rate}")
    return audio.mean(axis=1)


def render_key_clip(seed: int, index: int, tonic: int, mode: str,
                    bars: int = 8) -> KeyClip:
    rng = np.random.default_rng([seed, index])
    tempo = float(rng.uniform(100, 175))
    mid, desc = _score(rng, tonic, mode, tempo, bars)
    sf2 = SOUNDFONTS[index % len(SOUNDFONTS)]
    audio = render_midi(mid, sf2)
    audio = audio / (np.abs(audio).max() + 1e-9) * 0.5
    return KeyClip(audio.astype(np.float32), tonic, mode, tempo, sf2, desc)


def key_set(n_clips: int, seed: int) -> list[tuple[int, int, str]]:
    """(index, tonic, mode) of ``n_clips`` clips spread evenly over the 24 keys."""
    out = []
    for i in range(n_clips):
        k = i % 24
        out.append((i, k % 12, "major" if k < 12 else "minor"))
    return out
