"""Walking the inputs: symlinked folders, one file reached by two paths, missing inputs."""

from __future__ import annotations

import os

from conftest import write_tone
from test_runtime import CountingTracker

from heihachi.runtime import Runner, RunOptions, place
from heihachi.runtime.inputs import expand_inputs


def test_a_symlinked_folder_inside_an_input_folder_is_walked(tmp_path):
    write_tone(tmp_path / "elsewhere" / "linked.wav", seconds=0.2)
    write_tone(tmp_path / "lib" / "own.wav", seconds=0.2)
    os.symlink(tmp_path / "elsewhere", tmp_path / "lib" / "more")
    os.symlink(tmp_path / "lib", tmp_path / "lib" / "loop")  # a cycle must not hang
    names = sorted(p.name for p in expand_inputs([tmp_path / "lib"]))
    assert names == ["linked.wav", "own.wav"]


def test_one_file_reached_by_two_paths_is_processed_once(tmp_path):
    song = write_tone(tmp_path / "lib" / "song.wav", seconds=0.2)
    os.symlink(song, tmp_path / "lib" / "alias.wav")
    (tmp_path / "list.txt").write_text(f"{song}\nlib/./song.wav\n")
    found = expand_inputs([tmp_path / "lib", song, tmp_path / "list.txt",
                           str(tmp_path / "lib" / ".." / "lib" / "song.wav")])
    assert len(found) == 1 and found[0].resolve() == song.resolve()


def test_a_missing_folder_is_a_failed_input_like_a_missing_file(tmp_path):
    good = write_tone(tmp_path / "good.wav", seconds=0.5, sr=8_000)
    missing = [tmp_path / "no_such_folder", tmp_path / "no_such_file.wav"]
    paths = expand_inputs([good, *missing])
    assert sorted(paths) == sorted([good, *missing])
    runner = Runner(CountingTracker(), RunOptions(output_dir=tmp_path / "out", num_workers=0,
                                                  progress=False), place("cpu", "fp32"))
    status = {e.path: e for e in runner.run(paths).entries}
    assert status[str(good)].status == "ok"
    for p in missing:
        assert status[str(p)].status == "failed" and "not found" in status[str(p)].error
