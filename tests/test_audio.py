"""Decoding, resampling, channel mixing, windows and bad-input errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from conftest import write_tone

from heihachi.errors import AudioDecodeError, EmptyAudioError, InvalidAudioError
from heihachi.runtime.audio import iter_windows, load


@pytest.mark.parametrize(("win", "hop"), [(2.0, None), (2.0, 1.5), (1.0, 0.25)])
def test_windows_cover_the_file_and_match_a_whole_decode(tmp_path, win, hop):
    path = write_tone(tmp_path / "a.wav", seconds=7.3, sr=44_100, channels=2)
    whole = load(path, 16_000, 1)
    windows = list(iter_windows(path, 16_000, 1, win, hop))
    step = hop or win
    assert [w.index for w in windows] == list(range(len(windows)))
    assert windows[-1].last and not any(w.last for w in windows[:-1])
    assert windows[-1].duration == pytest.approx(whole.shape[1] / 16_000)
    for w in windows:  # every window equals the same span of one continuous resample
        a = round(w.start * 16_000)
        assert w.start == pytest.approx(w.index * step)
        np.testing.assert_allclose(w.audio, whole[:, a:a + w.audio.shape[1]], atol=1e-6)
    end = windows[-1].start * 16_000 + windows[-1].audio.shape[1]
    assert end == whole.shape[1]


def test_resampling_keeps_pitch_and_duration(tmp_path):
    path = write_tone(tmp_path / "tone.wav", seconds=2.0, sr=44_100, freq=1000.0)
    y = load(path, 16_000, 1)[0]
    assert len(y) == pytest.approx(32_000, abs=2)
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) * 16_000 / len(y) == pytest.approx(1000.0, abs=2)


@pytest.mark.parametrize(("sr", "channels"), [(8_000, 1), (192_000, 2), (48_000, 8)])
def test_odd_rates_and_channel_counts_are_converted(tmp_path, sr, channels):
    path = write_tone(tmp_path / "x.flac" if channels <= 8 else tmp_path / "x.wav",
                      seconds=1.0, sr=sr, channels=channels)
    mono = load(path, 16_000, 1)
    stereo = load(path, 44_100, 2)
    assert mono.shape == (1, 16_000)
    assert stereo.shape[0] == 2 and abs(stereo.shape[1] - 44_100) <= 2


def test_mp3_and_ogg_decode(tmp_path):
    x = (0.3 * np.sin(np.arange(44_100) / 10)).astype(np.float32)
    sf.write(tmp_path / "a.ogg", x, 44_100)
    sf.write(tmp_path / "a.mp3", x, 44_100)
    for name in ("a.ogg", "a.mp3"):
        assert abs(load(tmp_path / name, 22_050, 1).shape[1] - 22_050) < 2_000


def test_fallback_decoder_reads_m4a(tmp_path):
    av = pytest.importorskip("av")
    path = tmp_path / "a.m4a"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=44_100)
        t = np.arange(44_100 * 2) / 44_100
        data = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="mono")
        frame.sample_rate = 44_100
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    y = load(path, 16_000, 1)
    assert abs(y.shape[1] - 32_000) < 3_000
    assert np.abs(y).max() > 0.1


def test_bad_inputs_raise_errors_that_name_the_file(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n" * 20)
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.full(8_000, np.nan, np.float32), 8_000, subtype="FLOAT")
    good = write_tone(tmp_path / "good.wav", seconds=1.0)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    zero = tmp_path / "zero.wav"
    sf.write(zero, np.zeros((0, 1), np.float32), 8_000)
    cases = {empty: EmptyAudioError, text: AudioDecodeError, nan: InvalidAudioError,
             truncated: AudioDecodeError, zero: EmptyAudioError,
             tmp_path / "vanished.wav": AudioDecodeError}
    for path, error in cases.items():
        with pytest.raises(error) as info:
            list(iter_windows(path, 16_000, 1, 2.0))
        assert str(path) in str(info.value)


def test_partial_nans_are_zeroed(tmp_path):
    x = np.sin(np.arange(16_000) / 5).astype(np.float32)
    x[100:200] = np.nan
    sf.write(tmp_path / "some_nan.wav", x, 16_000, subtype="FLOAT")
    y = load(tmp_path / "some_nan.wav", 16_000, 1)
    assert np.isfinite(y).all() and np.all(y[0, 100:200] == 0)
