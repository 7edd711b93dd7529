"""Captions per segment from a transformers speech-seq2seq model (AutoModelForSpeechSeq2Seq).

Any encoder-decoder that ``AutoModelForSpeechSeq2Seq`` + ``AutoProcessor`` load
works: Whisper and its fine-tunes (the default transcribes vocals/lyrics per
segment; a music-captioning fine-tune of the same architecture writes captions),
Speech2Text, SpeechT5-style models. The processor says the sample rate and how
many seconds the encoder takes at once, which bounds ``window_s``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import heihachi
from heihachi.errors import ConfigError
from heihachi.tasks import AudioBatch, Captioner

if TYPE_CHECKING:
    from heihachi.results import Captions

TINY_DIR = "whisper-caption"


class HFCaptioner(Captioner):
    """Text per segment from any AutoModelForSpeechSeq2Seq model (Whisper-style)."""

    name = "hf-captioner"
    sample_rate = 16_000
    window_s = 30.0
    default_model = "openai/whisper-small"
    tiny_model: ClassVar[str] = f"tiny/{TINY_DIR}"

    @dataclass
    class Config:
        model: str = "openai/whisper-small"
        revision: str | None = None
        window_s: float | None = None  # None: what the encoder takes at once (30 s Whisper)
        hop_s: float | None = None
        max_new_tokens: int = 64
        num_beams: int = 1
        language: str | None = None  # Whisper only: e.g. "en"; None = detect
        task: str | None = None  # Whisper only: transcribe | translate
        trust_remote_code: bool = False

    def load(self) -> None:
        from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        cfg = self.config
        if cfg.max_new_tokens < 1 or cfg.num_beams < 1:
            raise ConfigError("captioner.max_new_tokens and captioner.num_beams must be >= 1")
        path = self.resolve_model(cfg.model, cfg.revision)
        trust = cfg.trust_remote_code
        try:
            self.processor = AutoProcessor.from_pretrained(path, trust_remote_code=trust)
            model = AutoModelForSpeechSeq2Seq.from_pretrained(path, trust_remote_code=trust)
        except (OSError, ValueError, KeyError) as e:
            raise ConfigError(f"captioner.model={cfg.model!r} is not a speech-seq2seq model "
                              f"with a processor (AutoModelForSpeechSeq2Seq): {e}") from e
        self.model = model.eval().to(self.device)
        fe = getattr(self.processor, "feature_extractor", self.processor)
        self.sample_rate = int(fe.sampling_rate)
        n_samples = getattr(fe, "n_samples", None)  # Whisper pads/cuts to this
        span = n_samples / self.sample_rate if n_samples else None
        window = cfg.window_s or span or self.window_s
        if span is not None and window > span:
            raise ConfigError(f"captioner.window_s={cfg.window_s}: {model.config.model_type} "
                              f"takes at most {span:g} s at once")
        if cfg.hop_s is not None and not 0 < cfg.hop_s:
            raise ConfigError(f"captioner.hop_s={cfg.hop_s}: must be > 0")
        self._window = (window, cfg.hop_s)
        self.is_whisper = model.config.model_type == "whisper"

    def window(self) -> tuple[float | None, float | None]:
        return getattr(self, "_window", (self.config.window_s or self.window_s,
                                         self.config.hop_s))

    def caption(self, batch: AudioBatch) -> list[Captions]:
        import torch

        from heihachi.results import Caption, Captions

        arrays = [x.float().cpu().numpy() for x in batch.unpadded()]
        fe = getattr(self.processor, "feature_extractor", self.processor)
        inputs = fe(arrays, sampling_rate=self.sample_rate, return_tensors="pt")
        main = "input_features" if "input_features" in inputs else "input_values"
        kwargs: dict[str, Any] = {main: inputs[main].to(self.device, self.model.dtype)}
        if "attention_mask" in inputs and not self.is_whisper:
            kwargs["attention_mask"] = inputs["attention_mask"].to(self.device)
        if self.is_whisper:
            kwargs.update({k: v for k, v in (("language", self.config.language),
                                              ("task", self.config.task)) if v})
        with torch.inference_mode():
            out = self.model.generate(**kwargs, max_new_tokens=self.config.max_new_tokens,
                                      num_beams=self.config.num_beams,
                                      return_dict_in_generate=True, output_scores=True)
        texts = self.processor.batch_decode(out.sequences, skip_special_tokens=True)
        scores = self._confidences(out, len(arrays))
        return [Captions([Caption(0.0, len(a) / self.sample_rate, t.strip(), s)])
                for a, t, s in zip(arrays, texts, scores, strict=True)]

    def _confidences(self, out: Any, n: int) -> list[float | None]:
        """Geometric-mean token probability of each caption (None where not computable)."""
        import torch

        try:
            steps = self.model.compute_transition_scores(
                out.sequences, out.scores, getattr(out, "beam_indices", None),
                normalize_logits=True)
        except (AttributeError, TypeError, ValueError, RuntimeError, IndexError):
            return [None] * n
        finite = torch.isfinite(steps)
        mean = (steps.where(finite, 0).sum(-1) / finite.sum(-1).clamp(min=1)).exp()
        return [round(float(v), 5) for v in mean]

    @classmethod
    def make_tiny(cls, cache_dir: Path) -> list[Path]:
        """Write a tiny random Whisper (model, byte-level tokenizer, feature extractor)."""
        return [make_tiny_whisper(cache_dir / "tiny" / TINY_DIR)]


def make_tiny_whisper(out: Path) -> Path:
    """A tiny random WhisperForConditionalGeneration + WhisperProcessor, saved like the hub's.

    Special tokens are suppressed in generation so the random model emits bytes
    (gibberish text) rather than nothing: the decode path is exercised for real.
    """
    import torch
    import transformers as tf
    from tokenizers.pre_tokenizers import ByteLevel

    vocab = {t: i for i, t in enumerate(sorted(ByteLevel.alphabet()))}
    eot = "<|endoftext|>"
    tokenizer = tf.WhisperTokenizer(vocab=vocab, merges=[], unk_token=eot, bos_token=eot,
                                    eos_token=eot, pad_token=eot)
    extra = ["<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"]
    tokenizer.add_special_tokens({"additional_special_tokens": extra})
    eot_id, sot_id = tokenizer.convert_tokens_to_ids([eot, extra[0]])
    torch.manual_seed(0)
    cfg = tf.WhisperConfig(d_model=32, encoder_layers=2, decoder_layers=1,
                           encoder_attention_heads=2, decoder_attention_heads=2,
                           encoder_ffn_dim=37, decoder_ffn_dim=37, num_mel_bins=80,
                           vocab_size=len(tokenizer), max_source_positions=1500,
                           max_target_positions=64, pad_token_id=eot_id, bos_token_id=eot_id,
                           eos_token_id=eot_id, decoder_start_token_id=sot_id)
    model = tf.WhisperForConditionalGeneration(cfg)
    gen = model.generation_config
    gen.max_length = 64
    gen.suppress_tokens = tokenizer.convert_tokens_to_ids(extra)
    gen.begin_suppress_tokens = [eot_id]
    processor = tf.WhisperProcessor(feature_extractor=tf.WhisperFeatureExtractor(feature_size=80),
                                    tokenizer=tokenizer)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    return out


@heihachi.hookimpl
def register_captioners(register: Any) -> None:
    register(HFCaptioner)
