"""Feature extraction with transformers audio encoders (AutoFeatureExtractor + AutoModel).

Supports wav2vec2 / HuBERT / WavLM / data2vec-audio (frame rate 50 Hz), AST
(patch tokens averaged over frequency), the Whisper encoder, the CLAP audio
tower (HTSAT) and MERT (its code lives on the hub: ``trust_remote_code=true``).
Returns HEAR-shaped results: frames ``[T, D]`` + timestamps, a scene vector, and
optionally every layer ``[L, T, D]``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import heihachi
from heihachi.errors import ConfigError
from heihachi.tasks import AudioBatch, FeatureExtractor

#: model_type -> (family, window seconds the model takes at once)
_FAMILIES = {
    "wav2vec2": ("ctc", 10.0), "hubert": ("ctc", 10.0), "wavlm": ("ctc", 10.0),
    "data2vec-audio": ("ctc", 10.0), "unispeech": ("ctc", 10.0),
    "unispeech-sat": ("ctc", 10.0), "wav2vec2-conformer": ("ctc", 10.0),
    "mert_model": ("ctc", 10.0),
    "audio-spectrogram-transformer": ("ast", 10.24),
    "whisper": ("whisper", 30.0),
    "clap": ("clap", 10.0),
}
TINY_ARCHITECTURES = ("wav2vec2", "hubert", "wavlm", "ast", "whisper", "clap")


class HFExtractor(FeatureExtractor):
    """Frame + scene embeddings from any transformers audio encoder."""

    name = "hf"
    sample_rate = 16_000
    window_s = 10.0
    default_model = "facebook/wav2vec2-base"
    tiny_model: ClassVar[str] = "tiny/wav2vec2"
    batch_equal_lengths = True  # wav2vec2-style group norm sees padding

    @dataclass
    class Config:
        model: str = "facebook/wav2vec2-base"
        layer: str = "-1"  # -1 (last) | N | all
        pooling: str = "mean"  # scene embedding: mean | max
        window_s: float | None = None  # None: the model's own input length
        hop_s: float | None = None
        revision: str | None = None
        trust_remote_code: bool = False

    def load(self) -> None:
        from transformers import AutoConfig, AutoFeatureExtractor, AutoModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        cfg = self.config
        if cfg.pooling not in ("mean", "max"):
            raise ConfigError(f"extractor.pooling={cfg.pooling!r}: use mean or max")
        if cfg.layer != "all" and not _is_int(cfg.layer):
            raise ConfigError(f"extractor.layer={cfg.layer!r}: use -1, a layer number, or all")
        path = self.resolve_model(cfg.model, cfg.revision)
        trust = cfg.trust_remote_code
        mcfg = AutoConfig.from_pretrained(path, trust_remote_code=trust)
        family = _FAMILIES.get(mcfg.model_type)
        if family is None:
            raise ConfigError(f"extractor.model={cfg.model!r} is a {mcfg.model_type!r} model; "
                              f"supported: {', '.join(sorted(_FAMILIES))}")
        self.family, native_window = family
        self.processor = AutoFeatureExtractor.from_pretrained(path, trust_remote_code=trust)
        model = AutoModel.from_pretrained(path, trust_remote_code=trust)
        if self.family == "whisper":
            model = model.get_encoder()
        elif self.family == "clap":
            self.fused = bool(getattr(model.config.audio_config, "enable_fusion", False))
            model = model.audio_model
        self.model = model.eval().to(self.device)
        self.sample_rate = int(self.processor.sampling_rate)
        # Seconds of audio the model sees per input (longer input is cut by the processor).
        self.span = {"ast": mcfg.max_length / 100.0 if self.family == "ast" else 0.0,
                     "whisper": float(getattr(self.processor, "chunk_length", 30)),
                     "clap": getattr(self.processor, "nb_max_samples", 480_000)
                     / self.sample_rate}.get(self.family, native_window)
        native_window = self.span
        self.min_samples = _min_samples(self.family, model.config, self.sample_rate)
        self._window = (cfg.window_s or native_window, cfg.hop_s)
        if self.family in ("ast", "whisper", "clap") and self._window[0] > native_window:
            raise ConfigError(f"extractor.window_s={cfg.window_s}: {mcfg.model_type} takes at "
                              f"most {native_window} s at once")
        if self.family == "clap" and cfg.layer not in ("-1",):
            raise ConfigError("the CLAP audio tower has stages of different widths: only "
                              "extractor.layer=-1 is supported")

    def window(self) -> tuple[float | None, float | None]:
        return getattr(self, "_window", (self.window_s, self.hop_s))

    def embed(self, batch: AudioBatch) -> list[Any]:
        import numpy as np

        arrays = [x.float().cpu().numpy() for x in batch.unpadded()]
        lengths = [len(a) for a in arrays]
        # a file's last window can be a few samples long: zero-pad it to the shortest
        # input the front end takes (wav2vec2's convs: 400 samples; fbank: 25 ms)
        arrays = [np.pad(a, (0, self.min_samples - len(a))) if len(a) < self.min_samples
                  else a for a in arrays]
        kwargs: dict[str, Any] = {"sampling_rate": self.sample_rate, "return_tensors": "pt"}
        if self.family == "ctc":
            kwargs.update(padding=True, return_attention_mask=True)
        inputs = self.processor(arrays, **kwargs)
        inputs = {k: v.to(self.device) for k, v in inputs.items()
                  if k in ("input_values", "input_features", "attention_mask", "is_longer")}
        if self.family == "clap" and not self.fused:
            inputs.pop("is_longer", None)
        if self.family == "ctc" and not getattr(self.processor, "return_attention_mask", True):
            inputs.pop("attention_mask", None)  # models trained without masks (wav2vec2-base)
        with warnings.catch_warnings():
            # WavLM's attention passes a float key_padding_mask; torch warns on every
            # batch about a deprecation that is transformers' to fix, not the user's
            warnings.filterwarnings("ignore", message=".*key_padding_mask.*")
            out = self.model(**inputs, output_hidden_states=True)
        layers = self._layers(out)  # [L, B, T, D]
        starts = list(batch.starts) or [0.0] * len(arrays)
        return [self._result(layers[:, b], lengths[b] / self.sample_rate, lengths[b],
                             first=starts[b] == 0.0)
                for b in range(len(arrays))]

    def _layers(self, out: Any) -> Any:
        import torch

        if self.family == "clap":
            # HTSAT output [B, D, F, T]: average frequency -> [B, T, D]
            return out.last_hidden_state.mean(dim=2).transpose(1, 2).unsqueeze(0)
        states = list(out.hidden_states)
        if states[-1].shape == out.last_hidden_state.shape:
            states[-1] = out.last_hidden_state  # layer -1 = the model's output (final norm)
        hidden = torch.stack(states)  # [L+1, B, N, D]
        if self.family == "ast":
            n_f, n_t = _ast_grid(self.model.config)
            hidden = hidden[:, :, 2:]  # drop [CLS] and distillation tokens
            hidden = hidden.reshape(*hidden.shape[:2], n_f, n_t, hidden.shape[-1]).mean(dim=2)
        return hidden

    def _frames_valid(self, n_frames: int, duration: float, n_samples: int,
                      first: bool = True) -> tuple[int, float]:
        """How many frames hold real audio, and the hop between frame centres.

        A window after the first may hold none (a tail too short for one frame); the
        first window of a file always keeps one, so every file has an embedding.
        """
        least = 1 if first else 0
        if self.family == "ctc":
            n = max(0, int(self.model._get_feat_extract_output_lengths(n_samples)))
            n = min(max(n, least), n_frames)
            return n, duration / max(1, n)
        hop = self.span / n_frames
        # keep frames whose centre lies inside the audio
        return max(least, min(n_frames, math.ceil(duration / hop - 0.5))), hop

    def _result(self, layers: Any, duration: float, n_samples: int, first: bool = True) -> Any:
        import numpy as np

        from heihachi.results import Embeddings

        n, hop = self._frames_valid(layers.shape[1], duration, n_samples, first)
        all_layers = layers[:, :n].float().cpu().numpy()
        stamps = (np.arange(n) + 0.5) * hop
        layer = self.config.layer
        if layer == "all":
            frames, keep = all_layers.mean(axis=0), all_layers
        else:
            idx = int(layer)
            if not -len(all_layers) <= idx < len(all_layers):
                raise ConfigError(f"extractor.layer={idx}: this model has layers "
                                  f"0..{len(all_layers) - 1} (0 = embeddings)")
            frames, keep = all_layers[idx], None
        return Embeddings(frames=frames, timestamps=stamps, layers=keep,
                          pooling=self.config.pooling)

    @classmethod
    def make_tiny(cls, cache_dir: Path) -> list[Path]:
        """Write tiny random-weight models of each supported architecture (real format)."""
        return [make_tiny_model(arch, cache_dir / "tiny" / arch) for arch in TINY_ARCHITECTURES]


def _min_samples(family: str, config: Any, sample_rate: int) -> int:
    """The shortest input the model's front end takes: the receptive field of a
    wav2vec2-style conv stack (400 samples), else one 25 ms analysis frame."""
    kernels, strides = getattr(config, "conv_kernel", None), getattr(config, "conv_stride", None)
    if family == "ctc" and kernels and strides:
        field = 1
        for k, s in zip(reversed(kernels), reversed(strides), strict=True):
            field = (field - 1) * s + k
        return int(field)
    return round(0.025 * sample_rate)


def _is_int(s: str) -> bool:
    try:
        int(s)
        return True
    except ValueError:
        return False


def _ast_grid(cfg: Any) -> tuple[int, int]:
    n_f = (cfg.num_mel_bins - cfg.patch_size) // cfg.frequency_stride + 1
    n_t = (cfg.max_length - cfg.patch_size) // cfg.time_stride + 1
    return n_f, n_t


def make_tiny_model(arch: str, out: Path) -> Path:
    """Build a tiny random-weight ``arch`` model from a config and save it like the hub does."""
    import torch
    import transformers as tf

    torch.manual_seed(0)
    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=37)
    conv = dict(conv_dim=(16, 16, 16, 16, 16, 16, 16), num_conv_pos_embeddings=16,
                num_conv_pos_embedding_groups=2)
    if arch in ("wav2vec2", "hubert", "wavlm"):
        config_cls = {"wav2vec2": tf.Wav2Vec2Config, "hubert": tf.HubertConfig,
                      "wavlm": tf.WavLMConfig}[arch]
        model = tf.AutoModel.from_config(config_cls(**small, **conv))
        fe = tf.Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                         do_normalize=True, return_attention_mask=True)
    elif arch == "ast":
        cfg = tf.ASTConfig(**small, num_mel_bins=32, max_length=256, patch_size=16,
                           frequency_stride=16, time_stride=16)
        model = tf.ASTModel(cfg)
        fe = tf.ASTFeatureExtractor(num_mel_bins=32, max_length=256)
    elif arch == "whisper":
        cfg = tf.WhisperConfig(d_model=32, encoder_layers=2, decoder_layers=1,
                               encoder_attention_heads=2, decoder_attention_heads=2,
                               encoder_ffn_dim=37, decoder_ffn_dim=37, num_mel_bins=80,
                               vocab_size=100, max_source_positions=1500,
                               max_target_positions=32, pad_token_id=0, bos_token_id=1,
                               eos_token_id=2, decoder_start_token_id=1)
        model = tf.WhisperModel(cfg)
        fe = tf.WhisperFeatureExtractor(feature_size=80)
    elif arch == "clap":
        cfg = tf.ClapConfig(
            text_config=dict(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                             num_attention_heads=2, intermediate_size=37,
                             max_position_embeddings=80, projection_dim=16),
            audio_config=dict(patch_embeds_hidden_size=16, depths=[1, 1],
                              num_attention_heads=[2, 2], hidden_size=32, projection_dim=16,
                              window_size=8),
            projection_dim=16)
        model = tf.ClapModel(cfg)
        fe = tf.ClapFeatureExtractor(truncation="rand_trunc", padding="repeatpad")
    else:
        raise ValueError(f"no tiny recipe for {arch!r}")
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    fe.save_pretrained(out)
    return out


@heihachi.hookimpl
def register_extractors(register: Any) -> None:
    register(HFExtractor)
