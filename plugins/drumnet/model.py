"""drumnet: a small CRNN for drum onsets (5 classes), beats/downbeats and velocities.

Input: raw mono audio ``[B, T]`` at ``model.sample_rate`` (24 kHz); the log-mel frontend
(hop 240 → 100 frames/s, 80 mel bands 30 Hz-12 kHz; STFT size and mel scale from the
config: the shipped model uses a 2048-point STFT and the htk scale) is part of the
module.  Output per frame: onset probabilities ``[B, F, 5]`` (kick, snare, hihat, tom,
cymbal), beat/downbeat probabilities ``[B, F, 2]`` and velocities ``[B, F, 5]``, with
``F = T // hop + 1`` (frame ``i`` is centred at ``i * hop`` samples).

With ``"causal": true`` in the config the GRU runs forward only and every head reads the
forward state, so frame ``i`` depends on audio up to ``i * hop + n_fft / 2`` samples (the
STFT window) plus ``len(channels) * 2`` frames (each 3x3 conv looks one frame ahead):
:data:`lookahead_samples` gives the figure.  ``plugins/drumnet/stream.py`` runs such a
model block by block; :func:`to_causal` makes one from a bidirectional model.

Weights are stored as ``config.json`` + ``model.safetensors`` (no pickle anywhere).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

CLASSES = ("kick", "snare", "hihat", "tom", "cymbal")

DEFAULT_CONFIG: dict = {
    "name": "drumnet",
    "version": 1,
    "sample_rate": 24000,
    "n_fft": 1024,
    "hop_length": 240,
    "n_mels": 80,
    "f_min": 30.0,
    "f_max": 12000.0,
    "mel_scale": "slaney",  # "htk" spaces the low bands finer (kick vs low tom)
    "channels": [8, 16, 32],
    "proj": 128,
    "gru_hidden": 96,
    "classes": list(CLASSES),
    "thresholds": {c: 0.5 for c in CLASSES},
    "suppress": {},
    "beat_threshold": 0.5,
}

TINY_OVERRIDES = {"channels": [4, 4, 4], "proj": 8, "gru_hidden": 4}


class MelFrontend(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        import torchaudio

        self.hop = int(cfg["hop_length"])
        self.n_fft = int(cfg["n_fft"])
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=int(cfg["sample_rate"]), n_fft=self.n_fft, hop_length=self.hop,
            n_mels=int(cfg["n_mels"]), f_min=float(cfg["f_min"]), f_max=float(cfg["f_max"]),
            power=1.0, center=True, pad_mode="constant", norm="slaney",
            mel_scale=str(cfg.get("mel_scale", "slaney")),
        )

    def forward(self, audio: torch.Tensor) -> torch.Tensor:  # [B, T] -> [B, F, M]
        m = self.mel(audio.float())  # [B, M, F]
        return torch.log(m + 1e-4).transpose(1, 2)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
        nn.MaxPool2d((1, 2)),
    )


class DrumNet(nn.Module):
    def __init__(self, config: dict | None = None):
        super().__init__()
        cfg = {**DEFAULT_CONFIG, **(config or {})}
        self.config = cfg
        self.sample_rate = int(cfg["sample_rate"])
        self.hop_length = int(cfg["hop_length"])
        self.fps = self.sample_rate / self.hop_length
        self.classes = tuple(cfg["classes"])
        self.thresholds = dict(cfg["thresholds"])
        # class -> {other class: ratio}; see decode.activations_to_hits
        self.suppress = {c: dict(v) for c, v in cfg.get("suppress", {}).items()}
        m = int(cfg["n_mels"])
        ch = list(cfg["channels"])
        self.frontend = MelFrontend(cfg)
        self.norm = nn.BatchNorm1d(m)
        blocks = []
        cin = 2  # log-mel and its positive time difference
        for c in ch:
            blocks.append(_block(cin, c))
            cin = c
        self.convs = nn.Sequential(*blocks)
        nfreq = m
        for _ in ch:
            nfreq //= 2
        proj = int(cfg["proj"])
        self.proj = nn.Sequential(nn.Linear(cin * nfreq, proj), nn.ReLU(), nn.Dropout(0.1))
        h = int(cfg["gru_hidden"])
        self.causal = bool(cfg.get("causal", False))
        self.gru = nn.GRU(proj, h, batch_first=True, bidirectional=not self.causal)
        gdim = h if self.causal else 2 * h
        nc = len(self.classes)
        self.onset_head = nn.Linear(proj + gdim, nc)
        self.vel_head = nn.Linear(proj + gdim, nc)
        self.beat_head = nn.Linear(gdim, 2)

    @property
    def lookahead_samples(self) -> int:
        """Audio after a frame's centre that its outputs depend on (causal models: the
        STFT half-window plus one frame per conv layer; bidirectional: unbounded)."""
        n_conv = 2 * len(self.config["channels"])
        return int(self.config["n_fft"]) // 2 + n_conv * self.hop_length

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        x = self.frontend(audio)  # [B, F, M]
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        d = torch.relu(x - torch.nn.functional.pad(x, (0, 0, 1, 0))[:, :-1])
        return torch.stack([x, d], dim=1)  # [B, 2, F, M]

    def forward_logits(self, audio: torch.Tensor) -> dict[str, torch.Tensor]:
        if audio.dim() == 1:
            audio = audio[None]
        x = self.convs(self.features(audio))  # [B, C, F, M']
        b, c, f, m = x.shape
        x = self.proj(x.permute(0, 2, 1, 3).reshape(b, f, c * m))
        g, _ = self.gru(x)
        z = torch.cat([x, g], dim=-1)
        return {"onsets": self.onset_head(z), "beats": self.beat_head(g),
                "velocity": self.vel_head(z)}

    def forward(self, audio: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.forward_logits(audio)
        return {k: torch.sigmoid(v) for k, v in out.items()}


def build(config: dict | None = None) -> DrumNet:
    return DrumNet(config)


def to_causal(model: DrumNet) -> DrumNet:
    """A causal drumnet initialised from a bidirectional one: frontend, convs, projection
    and heads copied, the GRU's forward direction kept, each head's weights on the
    backward state dropped (the starting point of a causal fine-tune)."""
    if model.causal:
        raise ValueError("the model is causal already")
    cfg = {**model.config, "causal": True}
    out = DrumNet(cfg)
    src = model.state_dict()
    h = int(cfg["gru_hidden"])
    proj = int(cfg["proj"])
    state = {}
    for k in out.state_dict():
        w = src[k]
        if k.startswith(("onset_head.weight", "vel_head.weight")):
            w = w[:, : proj + h]
        elif k == "beat_head.weight":
            w = w[:, :h]
        state[k] = w.clone()
    out.load_state_dict(state, strict=True)
    out.train(model.training)
    return out


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_drumnet(model: DrumNet, path: str | Path, extra_config: dict | None = None) -> Path:
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    cfg = {**model.config, **(extra_config or {})}
    cfg["thresholds"] = dict(model.thresholds) if not extra_config or "thresholds" not in \
        extra_config else extra_config["thresholds"]
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    tmp = path / "model.safetensors.tmp"
    # one metadata key only: safetensors writes the metadata map in hash order, which
    # changes from process to process, so two keys made the same weights hash differently
    save_file(state, str(tmp), metadata={"format": "pt"})
    tmp.replace(path / "model.safetensors")
    (path / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    return path


def load_drumnet(path: str | Path, device: str | torch.device = "cpu") -> DrumNet:
    """Load ``config.json`` + ``model.safetensors`` from ``path`` (eval mode)."""
    from safetensors.torch import load_file

    path = Path(path)
    cfg = json.loads((path / "config.json").read_text())
    model = DrumNet(cfg)
    state = load_file(str(path / "model.safetensors"), device="cpu")
    model.load_state_dict(state, strict=True)
    model.eval()
    return model.to(device)


def make_tiny(path: str | Path, seed: int = 0, causal: bool = False) -> Path:
    """Write a tiny random-weight drumnet (same architecture, minimal width)."""
    torch.manual_seed(seed)
    extra = {"causal": True} if causal else {}
    model = DrumNet({**DEFAULT_CONFIG, **TINY_OVERRIDES, "tiny": True, **extra})
    model.eval()
    return save_drumnet(model, path)
