"""CLAP (contrastive language-audio pretraining) through transformers' ``ClapModel``.

Two plugins share one loader:

- ``clap`` (similarity): one L2-normalised joint-space vector per window for
  ``hf similarity`` / ``hf tag`` / the index, and text vectors for queries.
- ``clap-captions`` (captioner): a caption per window assembled from zero-shot
  scores over a vocabulary of music descriptors (genre, tempo feel, energy, mood,
  instruments), so any CLAP weights caption without a separate captioning model.

Works with every hub conversion of the LAION checkpoints (``laion/clap-htsat-unfused``,
``laion/clap-htsat-fused``, ``laion/larger_clap_music``...); fused models get the
``is_longer`` flag their processor computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import heihachi
from heihachi.errors import ConfigError, UsageError
from heihachi.tasks import AudioBatch, Captioner, SimilarityModel

if TYPE_CHECKING:
    import numpy as np

    from heihachi.results import Captions, SegmentEmbeddings

TINY_DIR = "clap-full"
#: CLAP's processors cut audio to this many seconds (48 kHz x 480 000 samples).
CLAP_SPAN_S = 10.0

#: The descriptor vocabulary clap-captions scores, in the ``NAME:LABEL,...;`` grammar of
#: ``hf tag --categories``. ``instruments`` contributes its two best labels.
DEFAULT_VOCABULARY = (
    "genre:drum and bass,jungle,techno,house,dubstep,ambient,trance,breakbeat,"
    "uk garage,hip hop,downtempo,electro;"
    "tempo:slow,mid-tempo,fast-paced;"
    "energy:calm,laid-back,energetic,intense;"
    "mood:dark,euphoric,melancholic,uplifting,aggressive,dreamy;"
    "instruments:heavy bass,breakbeats,four-on-the-floor kicks,synth pads,piano,vocals,"
    "acid synth,strings,guitar,wobble bass"
)


#: (resolved path, revision) -> (model, processor): a second plugin instance in the same
#: process (e.g. the text side of `hf similarity` after the runtime embedded the audio)
#: reuses the loaded weights instead of loading a 600 MB model twice.
_LOADED: dict[tuple[str, str | None], tuple[Any, Any]] = {}


def load_clap(path: Path, revision: str | None, device: Any) -> tuple[Any, Any]:
    """Load (or reuse) a ``ClapModel`` + ``ClapProcessor`` from a local directory."""
    key = (str(path), revision)
    if key not in _LOADED:
        from transformers import ClapModel, ClapProcessor
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        try:
            processor = ClapProcessor.from_pretrained(path)
            model = ClapModel.from_pretrained(path)
        except (OSError, ValueError, KeyError) as e:
            raise ConfigError(f"{path}: not a CLAP model with a ClapProcessor "
                              f"(tokenizer + feature extractor): {e}") from e
        _LOADED[key] = (model.eval().to(device), processor)
    return _LOADED[key]


def _features(out: Any) -> Any:
    """transformers 4 returns a tensor from ``get_*_features``; 5 returns an output object."""
    return out if hasattr(out, "shape") else out.pooler_output


class ClapBase:
    """Loading, audio and text embedding shared by the CLAP plugins (a mixin)."""

    sample_rate: ClassVar[int] = 48_000
    window_s: ClassVar[float | None] = CLAP_SPAN_S
    default_model: ClassVar[str | None] = "laion/larger_clap_music"
    tiny_model: ClassVar[str] = f"tiny/{TINY_DIR}"

    config: Any
    device: Any
    resolve_model: Any

    def load(self) -> None:
        cfg = self.config
        if cfg.window_s is not None and not 0 < cfg.window_s <= CLAP_SPAN_S:
            raise ConfigError(f"window_s={cfg.window_s}: CLAP takes 0 < window_s <= "
                              f"{CLAP_SPAN_S} s at once (longer audio is cropped at random)")
        if cfg.hop_s is not None and cfg.hop_s <= 0:
            raise ConfigError(f"hop_s={cfg.hop_s}: must be > 0")
        path = self.resolve_model(cfg.model, cfg.revision)
        self.model, self.processor = load_clap(path, cfg.revision, self.device)
        fe = self.processor.feature_extractor
        self.sample_rate = int(fe.sampling_rate)  # type: ignore[misc]
        self.fused = bool(getattr(self.model.config.audio_config, "enable_fusion", False))

    def window(self) -> tuple[float | None, float | None]:
        return self.config.window_s or CLAP_SPAN_S, self.config.hop_s

    @property
    def logit_scale(self) -> float:
        """CLAP's learned temperature for audio-to-text logits (``exp(logit_scale_a)``)."""
        return float(self.model.logit_scale_a.detach().exp().cpu())

    def audio_vectors(self, batch: AudioBatch) -> tuple[np.ndarray, list[float]]:
        """``[B, D]`` unit vectors of each window and its duration in seconds."""
        import torch

        arrays = [x.float().cpu().numpy() for x in batch.unpadded()]
        inputs = self.processor.feature_extractor(arrays, sampling_rate=self.sample_rate,
                                                  return_tensors="pt")
        device = self.model.logit_scale_a.device
        kwargs = {"input_features": inputs["input_features"].to(device)}
        if self.fused and "is_longer" in inputs:
            kwargs["is_longer"] = inputs["is_longer"].to(device)
        with torch.inference_mode():
            vecs = _features(self.model.get_audio_features(**kwargs))
            vecs = torch.nn.functional.normalize(vecs.float(), dim=-1)
        return vecs.cpu().numpy(), [len(a) / self.sample_rate for a in arrays]

    def embed_text(self, texts: list[str]) -> np.ndarray:
        """``[N, D]`` L2-normalised text vectors."""
        import torch

        max_len = int(self.model.config.text_config.max_position_embeddings) - 2
        inputs = self.processor.tokenizer(list(texts), padding=True, truncation=True,
                                          max_length=max_len, return_tensors="pt")
        device = self.model.logit_scale_a.device
        inputs = {k: v.to(device) for k, v in inputs.items()
                  if k in ("input_ids", "attention_mask")}
        with torch.inference_mode():
            vecs = _features(self.model.get_text_features(**inputs))
            vecs = torch.nn.functional.normalize(vecs.float(), dim=-1)
        return vecs.cpu().numpy()

    @classmethod
    def make_tiny(cls, cache_dir: Path) -> list[Path]:
        """Write a tiny random CLAP (model, byte-level BPE tokenizer, feature extractor)."""
        return [make_tiny_clap(cache_dir / "tiny" / TINY_DIR)]


@dataclass
class ClapConfig:
    """Settings every CLAP plugin takes."""

    model: str = "laion/larger_clap_music"
    revision: str | None = None
    window_s: float = CLAP_SPAN_S  # segment length; CLAP sees at most 10 s
    hop_s: float | None = None  # None = window_s (segments do not overlap)


class ClapSimilarity(ClapBase, SimilarityModel):
    """CLAP joint text-audio embeddings, one vector per window (transformers ClapModel)."""

    name = "clap"
    Config = ClapConfig

    def embed_audio(self, batch: AudioBatch) -> list[SegmentEmbeddings]:
        import numpy as np

        from heihachi.results import SegmentEmbeddings

        vecs, durations = self.audio_vectors(batch)
        return [SegmentEmbeddings(np.zeros(1), np.array([d]), vecs[i:i + 1])
                for i, d in enumerate(durations)]


class ClapCaptioner(ClapBase, Captioner):
    """Captions from CLAP zero-shot scores over music descriptors (no captioning model)."""

    name = "clap-captions"

    @dataclass
    class Config(ClapConfig):
        vocabulary: str = DEFAULT_VOCABULARY  # NAME:LABEL,...;NAME:... (hf tag's grammar)
        prompt: str = "this is a {label} track"
        instruments: int = 2  # how many instrument labels a caption names

    def load(self) -> None:
        from heihachi.index.query import parse_categories, prompts

        super().load()
        try:
            self.categories = parse_categories(self.config.vocabulary)
            texts = {c: prompts(labels, self.config.prompt)
                     for c, labels in self.categories.items()}
        except UsageError as e:
            raise ConfigError(f"captioner.vocabulary / captioner.prompt: {e}") from None
        self.label_vectors = {c: self.embed_text(t) for c, t in texts.items()}

    def caption(self, batch: AudioBatch) -> list[Captions]:
        from heihachi.index.query import zero_shot
        from heihachi.results import Caption, Captions

        vecs, durations = self.audio_vectors(batch)
        probs = zero_shot(vecs, self.label_vectors, self.logit_scale)
        out: list[Captions] = []
        for i, d in enumerate(durations):
            text, score = self.describe({c: p[i] for c, p in probs.items()})
            out.append(Captions([Caption(0.0, d, text, round(score, 5))]))
        return out

    def describe(self, probs: dict[str, np.ndarray]) -> tuple[str, float]:
        """A caption from per-category label probabilities, and its mean confidence.

        Shape: "<mood>, <energy> <tempo> <genre> with <instrument> and <instrument>";
        categories missing from a custom vocabulary are left out, other custom
        categories are appended as "(<name>: <label>)".
        """
        import numpy as np

        best = {c: (self.categories[c][int(np.argmax(p))], float(np.max(p)))
                for c, p in probs.items()}
        adjectives = [best[c][0] for c in ("mood", "energy") if c in best]
        head = " ".join([best["tempo"][0]] if "tempo" in best else [])
        noun = best["genre"][0] if "genre" in best else "music"
        text = " ".join(w for w in (", ".join(adjectives), head, noun) if w)
        confidences = [v for c, (_l, v) in best.items() if c != "instruments"]
        if "instruments" in probs:
            p = probs["instruments"]
            top = np.argsort(-p, kind="stable")[:max(1, self.config.instruments)]
            names = [self.categories["instruments"][int(j)] for j in top]
            text += " with " + (" and ".join(names) if len(names) <= 2
                                else ", ".join(names[:-1]) + " and " + names[-1])
            confidences.extend(float(p[j]) for j in top)
        extra = [f"{c}: {label}" for c, (label, _v) in best.items()
                 if c not in ("mood", "energy", "tempo", "genre", "instruments")]
        if extra:
            text += f" ({'; '.join(extra)})"
        return text, float(np.mean(confidences)) if confidences else 0.0


def make_tiny_clap(out: Path) -> Path:
    """A tiny random ClapModel + ClapProcessor saved like the hub's (loaded the real way).

    The tokenizer is a byte-level BPE with the 256-symbol byte alphabet and no
    merges: it tokenises any text offline, as RoBERTa's does, without a download.
    """
    import torch
    import transformers as tf
    from tokenizers.pre_tokenizers import ByteLevel

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    vocab = {t: i for i, t in enumerate(specials + sorted(ByteLevel.alphabet()))}
    tokenizer = tf.RobertaTokenizer(vocab=vocab, merges=[])
    torch.manual_seed(0)
    cfg = tf.ClapConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                         num_attention_heads=2, intermediate_size=37,
                         max_position_embeddings=130, projection_dim=16, pad_token_id=1,
                         bos_token_id=0, eos_token_id=2),
        audio_config=dict(patch_embeds_hidden_size=16, depths=[1, 1],
                          num_attention_heads=[2, 2], hidden_size=32, projection_dim=16,
                          window_size=8, enable_fusion=False),
        projection_dim=16)
    model = tf.ClapModel(cfg)
    fe = tf.ClapFeatureExtractor(truncation="rand_trunc", padding="repeatpad")
    processor = tf.ClapProcessor(feature_extractor=fe, tokenizer=tokenizer)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    return out


@heihachi.hookimpl
def register_similarity_models(register: Any) -> None:
    register(ClapSimilarity)


@heihachi.hookimpl
def register_captioners(register: Any) -> None:
    register(ClapCaptioner)
