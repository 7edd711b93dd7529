"""Realtime beats: causal trackers fed audio block by block, and where their events go.

``events`` holds the one type every part agrees on (:class:`BeatEvent`); the tracker,
the audio sources and the outputs (NDJSON, click, MIDI clock, OSC) build on it.
"""
