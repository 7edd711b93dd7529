"""``hf realtime-beats``: beats of live or played audio as they happen (issue 18).

One source (``--input FILE`` paced in real time or ``--fast``, ``--stdin`` raw PCM,
``--device N`` a sound card) feeds the causal tracker block by block; its events go to
any combination of outputs: NDJSON on stdout, a click file or a live click, MIDI clock,
OSC. Only click is imported at module top; numpy, the tracker and the optional extras
load inside the command, so ``--help`` stays fast.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from heihachi.errors import UsageError

HELP = """Track beats in real time and send them out as they are decided.

\b
  heihachi hf realtime-beats --input track.flac                 # paced, NDJSON on stdout
  heihachi hf realtime-beats --input track.flac --fast --click-out click.wav
  heihachi hf realtime-beats --device 2 --midi-virtual heihachi --osc 127.0.0.1:9000
  ffmpeg -i mix.mp3 -f s16le -ac 1 -ar 44100 - | heihachi hf realtime-beats --stdin

NDJSON lines: {"t", "beat", "downbeat", "bpm", "confidence", "emitted_at"} (stream
seconds). Sound cards and MIDI ports need `pip install 'heihachi[realtime]'`.
Ctrl-C stops cleanly (MIDI stop sent, click file finalized)."""


def make_tracker(model: str, sample_rate: int, latency_s: float | None, device: str,
                 profile: str | None = None, threads: int = 1) -> Any:
    """The shipped realtime tracker (``heihachi.hf.RealtimeBeatTracker``).

    ``threads`` sets torch's intra-op threads: one block's inference is a few small ops,
    which more threads only slow down on a loaded machine (measured on 2 shared cores:
    2 s of audio took 0.52 s with 1 thread, 3.0-8.4 s with 2).
    """
    import torch

    from heihachi.hf import RealtimeBeatTracker

    torch.set_num_threads(threads)
    kwargs: dict[str, Any] = {"model": model, "sample_rate": sample_rate, "device": device}
    if latency_s is not None:
        kwargs["latency_s"] = latency_s
    if profile:
        kwargs["profile"] = profile
    return RealtimeBeatTracker(**kwargs)


@click.command("realtime-beats", help=HELP)
@click.option("--input", "input_path", type=click.Path(dir_okay=False),
              help="Audio file to play through the tracker.")
@click.option("--stdin", "use_stdin", is_flag=True, help="Read raw PCM from standard input.")
@click.option("--device", "sound_device", help="Sound card to listen to (index or name).")
@click.option("--list-devices", is_flag=True, help="List the sound cards and exit.")
@click.option("--fast", is_flag=True, help="With --input: as fast as possible, no pacing.")
@click.option("--block", type=click.IntRange(64, 8192), default=512, show_default=True,
              help="Frames per block (256-1024 usual).")
@click.option("--rate", type=click.IntRange(1000, 384000), default=44100, show_default=True,
              help="Sample rate of --stdin / --device.")
@click.option("--channels", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Channels of --stdin / --device.")
@click.option("--format", "pcm_format", type=click.Choice(["s16le", "f32le"]),
              default="s16le", show_default=True, help="Sample format of --stdin.")
@click.option("--model", default="drumnet-online", show_default=True, help="Tracker model.")
@click.option("--latency", type=click.FloatRange(0, 5), default=None,
              help="Seconds the tracker may wait before deciding a beat (its default).")
@click.option("--compute", default="cpu", show_default=True,
              help="Torch device of the tracker (cpu, cuda).")
@click.option("--threads", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Torch CPU threads of the tracker.")
@click.option("--profile", help="Config profile of the tracker (tiny: random-weight "
              "test models).")
@click.option("--json/--no-json", "ndjson", default=True, show_default=True,
              help="NDJSON events on stdout.")
@click.option("--click-out", type=click.Path(dir_okay=False), help="Write audio+click WAV.")
@click.option("--click-play", is_flag=True, help="Play audio+click on the sound card.")
@click.option("--midi-port", help="MIDI clock to this port (name, or tcp:HOST:PORT).")
@click.option("--midi-virtual", help="MIDI clock on a new virtual port of this name.")
@click.option("--osc", "osc_to", help="OSC /beat and /bpm to HOST:PORT (UDP).")
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
def realtime_beats(input_path: str | None, use_stdin: bool, sound_device: str | None,
                   list_devices: bool, fast: bool, block: int, rate: int, channels: int,
                   pcm_format: str, model: str, latency: float | None, compute: str,
                   threads: int, profile: str | None, ndjson: bool, click_out: str | None,
                   click_play: bool,
                   midi_port: str | None, midi_virtual: str | None, osc_to: str | None,
                   quiet: bool) -> None:
    if list_devices:
        from heihachi.streaming.sources import list_devices as devices

        click.echo(devices())
        return
    chosen = [n for n, v in (("--input", input_path), ("--stdin", use_stdin),
                             ("--device", sound_device)) if v]
    if len(chosen) != 1:
        raise UsageError("hf realtime-beats: give exactly one of --input FILE, --stdin, "
                         f"--device N (got {', '.join(chosen) or 'none'})")
    if fast and not input_path:
        raise UsageError("--fast works with --input only (a pipe or a sound card sets "
                         "its own pace)")
    if midi_port and midi_virtual:
        raise UsageError("give --midi-port or --midi-virtual, not both")
    source = _source(input_path, use_stdin, sound_device, fast, block, rate, channels,
                     pcm_format)
    outputs = _outputs(source, ndjson, click_out, click_play, midi_port, midi_virtual,
                       osc_to, realtime=not fast)
    try:
        tracker = make_tracker(model, source.sample_rate, latency, compute, profile=profile,
                               threads=threads)
    except BaseException:
        _discard(outputs)
        raise
    _run(source, tracker, outputs, quiet)


def _source(input_path: str | None, use_stdin: bool, sound_device: str | None, fast: bool,
            block: int, rate: int, channels: int, pcm_format: str) -> Any:
    from pathlib import Path

    from heihachi.streaming import sources

    if input_path:
        if not Path(input_path).is_file():
            raise UsageError(f"--input {input_path}: no such file")
        return sources.FileSource(input_path, block=block, realtime=not fast)
    if use_stdin:
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("--stdin reads raw PCM from a pipe, e.g. ffmpeg -i FILE -f s16le "
                             "-ac 1 -ar 44100 - | heihachi hf realtime-beats --stdin")
        return sources.PcmSource(sys.stdin.buffer, rate, channels, pcm_format, block)
    dev: int | str = int(sound_device) if str(sound_device).isdigit() else str(sound_device)
    return sources.DeviceSource(dev, rate, channels, block)


def _outputs(source: Any, ndjson: bool, click_out: str | None, click_play: bool,
             midi_port: str | None, midi_virtual: str | None, osc_to: str | None,
             realtime: bool) -> list[Any]:
    """Open every output asked for; on a failure close the ones already open."""
    from heihachi.streaming import outputs as out

    made: list[Any] = []
    try:
        if ndjson:
            made.append(out.NdjsonOutput(sys.stdout))
        if click_out:
            made.append(out.ClickFileOutput(click_out, source.sample_rate, source.channels))
        if click_play:
            made.append(out.ClickPlayOutput(source.sample_rate, source.channels))
        if midi_port or midi_virtual:
            from heihachi.streaming.midi_clock import MidiClockOutput, open_midi_port

            made.append(MidiClockOutput(open_midi_port(midi_port, midi_virtual), realtime))
        if osc_to:
            made.append(out.OscOutput(*out.parse_host_port(osc_to, "--osc")))
    except BaseException:
        _discard(made)
        raise
    return made


def _discard(outputs: list[Any]) -> None:
    """Close outputs after a setup failure (no click file is left behind)."""
    for o in outputs:
        spool = getattr(o, "spool", None)
        try:
            spool.abort() if spool is not None else o.close()
        except Exception:
            pass


def _run(source: Any, tracker: Any, outputs: list[Any], quiet: bool) -> None:
    import numpy as np

    from heihachi.streaming.run import run_stream

    try:
        stats = run_stream(source, tracker, outputs, source.sample_rate)
    except BrokenPipeError:  # the reader of stdout went away: a normal end for a pipe
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    dropped = getattr(source, "dropped_bytes", 0)
    if dropped:
        click.echo(f"realtime-beats: warning: dropped a partial trailing frame "
                   f"({dropped} bytes)", err=True)
    if quiet:
        return
    per_block = np.asarray(stats.process_s) * 1000
    block_ms = 1000 * getattr(source, "block", 0) / source.sample_rate
    timing = (f"; processing {np.median(per_block):.2f} ms/block median, "
              f"p99 {np.percentile(per_block, 99):.2f} ms (a block is {block_ms:.1f} ms)"
              if len(per_block) else "")
    latency = getattr(tracker, "latency_s", None)
    click.echo(f"realtime-beats: {stats.seconds:.2f} s of audio, {stats.beats} beats, "
               f"{stats.blocks} blocks in {stats.wall_s:.2f} s{timing}"
               + (f"; tracker latency {latency:.3f} s" if latency is not None else "")
               + ("; stopped by Ctrl-C" if stats.interrupted else ""), err=True)
