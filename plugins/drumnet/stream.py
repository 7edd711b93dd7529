"""Run a causal drumnet block by block: audio of any block size in, frame activations out.

:class:`StreamingDrumNet` gives, frame for frame, what the whole-signal forward pass of
the same causal model gives (to float rounding), while holding only a few frames:

- resampling to the model's 24 kHz: :class:`StreamingResampler`, the polyphase
  windowed-sinc filter of ``scipy.signal.resample_poly`` (Kaiser, beta 5, 10 zero
  crossings per side) run with carried input history, so its output equals
  ``resample_poly`` of the whole signal.  It waits for ``10 * max(up, down) / up`` input
  samples after an output sample (0.42 ms for 44.1 kHz -> 24 kHz).
- the mel frontend: frame ``i`` (centred at ``i * hop``, the model's ``center=True``
  framing with zero padding) is computed once its STFT window is complete, i.e. when
  ``i * hop + n_fft / 2`` samples have arrived;
- each 3x3 conv layer keeps its last two input frames (one zero frame at the start: the
  offline zero padding) and emits an output frame when the next input frame arrives;
- the GRU advances one step per frame with its hidden state carried.

So frame ``i`` is out when ``i * hop + lookahead`` resampled samples are in, with
``lookahead = n_fft / 2 + 6 * hop`` (102.7 ms for the shipped model).  ``flush()`` pads
the end as the offline pass does (zeros), so the last frames match too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class StreamingResampler:
    """``scipy.signal.resample_poly(x, up, down)`` computed block by block."""

    def __init__(self, sr_in: int, sr_out: int) -> None:
        from scipy.signal import firwin

        g = math.gcd(int(sr_in), int(sr_out))
        self.up, self.down = int(sr_out) // g, int(sr_in) // g
        self.identity = self.up == self.down == 1
        max_rate = max(self.up, self.down)
        self.half = 10 * max_rate
        self.h = (firwin(2 * self.half + 1, 1.0 / max_rate, window=("kaiser", 5.0))
                  * self.up) if not self.identity else np.ones(1)
        # taps per output sample: inputs i with 0 <= n*down + half - i*up < len(h)
        self.taps = (len(self.h) - 1) // self.up + 2
        self.delay_in = self.half / self.up if not self.identity else 0.0  # input samples
        # output n uses inputs i0 - k (k < taps), i0 = (n*down + half) // up, with the taps
        # H[(n*down + half) % up, k] = h[(n*down + half) % up + k*up] (0 past the end)
        k = np.arange(self.taps)
        hidx = np.arange(self.up)[:, None] + k[None, :] * self.up
        self.H = np.where(hidx < len(self.h), self.h[np.minimum(hidx, len(self.h) - 1)], 0.0)
        self.reset()

    def reset(self) -> None:
        # inputs before the start are zeros: the buffer starts ``taps`` samples early
        self.buf = np.zeros(self.taps, np.float64)
        self.buf_start = -self.taps  # absolute input index of buf[0]
        self.n_in = 0
        self.n_out = 0

    def _emit(self, upto: int) -> np.ndarray:
        """Outputs ``self.n_out .. upto - 1`` from the buffered inputs (missing = 0)."""
        if upto <= self.n_out:
            return np.zeros(0, np.float32)
        n = np.arange(self.n_out, upto)
        pos = n * self.down + self.half  # index into the upsampled filter axis
        i0 = pos // self.up  # newest input contributing
        need_end = int(i0[-1]) + 1 - self.buf_start
        if need_end > len(self.buf):  # past the end of the input: zeros (flush)
            self.buf = np.concatenate([self.buf, np.zeros(need_end - len(self.buf))])
        rel = (i0 - self.buf_start)[:, None] - np.arange(self.taps)[None, :]
        y = (self.buf[rel] * self.H[pos % self.up]).sum(axis=1)
        self.n_out = upto
        # keep only what later outputs can still need
        need = (self.n_out * self.down + self.half) // self.up - self.taps
        if need > self.buf_start:
            self.buf = self.buf[need - self.buf_start:]
            self.buf_start = need
        return y.astype(np.float32)

    def push(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64).reshape(-1)
        if self.identity:
            self.n_in += len(x)
            return x.astype(np.float32)
        keep = self.n_in - self.buf_start  # drop zeros appended by an earlier flush
        self.buf = np.concatenate([self.buf[:keep], x])
        self.n_in += len(x)
        # output n is final once its newest contributing input (pos // up) has arrived
        upto = (self.n_in * self.up - self.half - 1) // self.down + 1 if self.n_in else 0
        upto = max(upto, self.n_out)
        return self._emit(upto)

    def flush(self) -> np.ndarray:
        """The remaining outputs of ``resample_poly`` (zeros after the end)."""
        if self.identity:
            return np.zeros(0, np.float32)
        total = (self.n_in * self.up) // self.down + bool((self.n_in * self.up) % self.down)
        return self._emit(total)


class _StreamConv:
    """One 3x3 conv over (time, freq) with time padding 1, advanced frame by frame; the
    eval-mode batch norm after it folded into its weights."""

    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d | None = None) -> None:
        w = conv.weight.detach().float()
        b = (conv.bias.detach().float() if conv.bias is not None
             else torch.zeros(conv.out_channels))
        if bn is not None:
            scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
            w = w * scale[:, None, None, None]
            b = (b - bn.running_mean) * scale + bn.bias.detach()
        self.weight, self.bias = w.contiguous(), b.contiguous()
        self.in_channels, self.out_channels = conv.in_channels, conv.out_channels
        self.state: torch.Tensor | None = None

    def reset(self, shape: tuple[int, int]) -> None:
        self.state = torch.zeros(1, shape[0], 1, shape[1])  # the zero frame before t=0

    def push(self, x: torch.Tensor) -> torch.Tensor:  # [1, C, n, M] -> [1, C', n', M]
        assert self.state is not None
        full = torch.cat([self.state, x], dim=2)
        self.state = full[:, :, -2:]
        if full.shape[2] < 3:
            return full.new_zeros(1, self.out_channels, 0, x.shape[3])
        return F.conv2d(full, self.weight, self.bias, padding=(0, 1))


class StreamingDrumNet:
    """A causal drumnet fed audio blocks at ``input_sr``; returns new frames' activations.

    ``push(block)`` -> ``{"beats": [n, 2], "onsets": [n, 5], "velocity": [n, 5]}``
    (numpy, probabilities) for the frames completed by this block, in order; frame
    numbers continue from the previous call (``self.frames_out`` counts them).
    """

    def __init__(self, model, input_sr: int,
                 heads: tuple[str, ...] = ("beats", "onsets", "velocity")) -> None:
        if not getattr(model, "causal", False):
            raise ValueError("StreamingDrumNet needs a causal drumnet (config 'causal': true)")
        self.model = model.eval()
        self.input_sr = int(input_sr)
        self.hop = int(model.hop_length)
        self.n_fft = int(model.config["n_fft"])
        self.fps = float(model.fps)
        mel = model.frontend.mel
        self.window = mel.spectrogram.window.detach().float()
        self.fb = mel.mel_scale.fb.detach().float()  # [n_freqs, n_mels]
        self.resampler = StreamingResampler(self.input_sr, model.sample_rate)
        self.heads = tuple(heads)
        norm = model.norm
        scale = norm.weight.detach() / torch.sqrt(norm.running_var + norm.eps)
        self.norm_scale = scale
        self.norm_shift = norm.bias.detach() - norm.running_mean * scale
        self.norm_scale_np = self.norm_scale.numpy().astype(np.float32)
        self.norm_shift_np = self.norm_shift.numpy().astype(np.float32)
        self.window_np = self.window.numpy().astype(np.float64)
        self.fb_np = self.fb.numpy().astype(np.float32)
        self.layers: list[tuple[str, Any]] = []
        mods = [m for block in model.convs for m in block]
        for j, m in enumerate(mods):
            if isinstance(m, nn.Conv2d):
                bn = mods[j + 1] if j + 1 < len(mods) and isinstance(mods[j + 1],
                                                                     nn.BatchNorm2d) else None
                self.layers.append(("conv", _StreamConv(m, bn)))
            elif isinstance(m, nn.BatchNorm2d) and isinstance(mods[j - 1], nn.Conv2d):
                continue  # folded into the conv
            elif isinstance(m, nn.ReLU):
                self.layers.append(("relu", None))
            elif isinstance(m, nn.MaxPool2d):
                self.layers.append(("pool", m.kernel_size))
            else:
                self.layers.append(("point", m))
        self.n_conv = sum(1 for k, _ in self.layers if k == "conv")
        #: resampled samples after a frame's centre needed before it comes out
        self.lookahead_samples = self.n_fft // 2 + self.n_conv * self.hop
        self.lookahead_s = (self.lookahead_samples / model.sample_rate
                            + self.resampler.delay_in / self.input_sr)
        self.reset()

    def reset(self) -> None:
        self.resampler.reset()
        self.audio = np.zeros(self.n_fft // 2, np.float32)  # centre padding
        self.audio_start = 0  # index (in the padded signal) of audio[0]
        self.n_samples = 0  # resampled samples received
        self.frames_in = 0  # mel frames computed
        self.frames_out = 0  # frames through the whole network
        self.prev = None
        m = int(self.model.config["n_mels"])
        for kind, layer in self.layers:
            if kind == "conv":
                layer.reset((layer.in_channels, m))
            elif kind == "pool":
                m //= 2
        self.h = None

    # -- stages ----------------------------------------------------------------------
    def _mel_frames(self, final: bool = False) -> torch.Tensor | None:
        """Mel features of every frame whose window is now complete: ``[1, 2, n, M]``."""
        if final:
            self.audio = np.concatenate([self.audio, np.zeros(self.n_fft // 2, np.float32)])
            last = self.n_samples // self.hop  # offline: F = T // hop + 1 frames
        else:
            last = None
        end = self.audio_start + len(self.audio)  # padded-signal samples available
        n_avail = (end - self.n_fft) // self.hop + 1 if end >= self.n_fft else 0
        if last is not None:
            n_avail = min(n_avail, last + 1)
        if n_avail <= self.frames_in:
            return None
        first = self.frames_in
        s0 = first * self.hop - self.audio_start
        s1 = (n_avail - 1) * self.hop + self.n_fft - self.audio_start
        # numpy's FFT: the same STFT as torch.stft (center=False), less overhead per frame
        frames = np.lib.stride_tricks.sliding_window_view(self.audio[s0:s1], self.n_fft)
        spec = np.abs(np.fft.rfft(frames[:: self.hop] * self.window_np, axis=1))  # [n, F]
        mel = np.log(spec.astype(np.float32) @ self.fb_np + 1e-4)  # [n, M]
        x = mel * self.norm_scale_np + self.norm_shift_np  # the input batch norm (eval)
        prev = self.prev if self.prev is not None else np.zeros_like(x[:1])
        d = np.maximum(x - np.concatenate([prev, x[:-1]], axis=0), 0.0)
        self.prev = x[-1:]
        self.frames_in = n_avail
        keep_from = self.frames_in * self.hop - self.audio_start
        self.audio = self.audio[keep_from:]
        self.audio_start += keep_from
        return torch.from_numpy(np.stack([x, d], axis=0)[None].astype(np.float32))

    def _network(self, feats: torch.Tensor | None, final: bool = False) -> dict:
        x = feats
        for kind, layer in self.layers:
            if kind == "conv":
                if final:
                    z = layer.state.new_zeros(1, layer.state.shape[1], 1, layer.state.shape[3])
                    x = z if x is None else torch.cat([x, z], dim=2)
                elif x is None:
                    return {}
                x = layer.push(x)
                if x.shape[2] == 0 and not final:
                    return {}
            elif x is not None and x.shape[2] > 0:
                if kind == "relu":
                    x = torch.relu_(x)
                elif kind == "pool":
                    x = F.max_pool2d(x, layer)
                else:
                    x = layer(x)
        if x is None or x.shape[2] == 0:
            return {}
        b, c, f, m = x.shape
        z = self.model.proj(x.permute(0, 2, 1, 3).reshape(b, f, c * m))
        g, self.h = self.model.gru(z, self.h)
        self.frames_out += f
        out = {"beats": torch.sigmoid(self.model.beat_head(g))[0].numpy()}
        if "onsets" in self.heads or "velocity" in self.heads:
            zc = torch.cat([z, g], dim=-1)
            out["onsets"] = torch.sigmoid(self.model.onset_head(zc))[0].numpy()
            out["velocity"] = torch.sigmoid(self.model.vel_head(zc))[0].numpy()
        return out

    def _feed24(self, y: np.ndarray, final: bool = False) -> dict:
        if len(y):
            self.audio = np.concatenate([self.audio, y.astype(np.float32)])
            self.n_samples += len(y)
        with torch.inference_mode():
            return self._network(self._mel_frames(final), final)

    def push(self, block: np.ndarray) -> dict:
        """Feed a mono block at ``input_sr``; activations of the frames it completes."""
        return self._feed24(self.resampler.push(block))

    def flush(self) -> dict:
        """End of stream: the remaining frames (zero padding, as the offline pass)."""
        y = self.resampler.flush()
        if self.frames_in > self.n_samples // self.hop and not len(y):
            return {}
        return self._feed24(y, final=True)
