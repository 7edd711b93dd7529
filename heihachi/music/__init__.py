"""Music signal processing the plugins and analyses share (no models, no I/O).

- ``beat_decoding``: beat/downbeat activations -> beats, downbeats, tempo
- ``onsets``: spectral-flux onset detection with peak picking
- ``patterns``: drum hits on the beat grid: bar patterns, swing, microtiming
"""
