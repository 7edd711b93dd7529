"""Drum transcription with any transformers audio-classification model, on onset crops.

A one-shot classifier (a model trained to name a single drum sound) becomes a
transcriber: :mod:`heihachi.music.onsets` finds the hits in each window, a short crop
from each onset (``crop_s``, starting ``pre_s`` before it) is classified, and every
crop of a runtime batch goes through the model in one forward pass (chunked by
``max_crops``). The runtime resamples to the feature extractor's rate.

The default model, ``DunnBC22/wav2vec2-base-Drum_Kit_Sounds``, knows four labels:
kick, snare, toms and overheads; they map to Heihachi's classes kick, snare, tom
and cymbal (it has no hi-hat class: hats come out as overheads -> cymbal). Other
models' labels map onto :data:`heihachi.results.DRUM_CLASSES` by whole words
("Hi-Hat Open" -> hihat, "Ride (Custom)" -> cymbal, never "tom" inside "custom"),
or explicitly with ``drums.label_map={Shaker: hihat, Noise: none}``; each hit keeps
the model's own label in ``DrumHit.label``. A label mapped to ``none`` drops the
hit. Labels that map nowhere are an error at load (``drums.unmapped=drop`` drops
them instead), so a model's vocabulary is never silently misread.

Confidence is the softmax probability summed over the labels of the chosen class;
velocity is the hit's peak amplitude on a dB scale, ``velocity_floor_db`` -> 0 and
0 dBFS -> 1, the same for a hit wherever it falls in a file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import heihachi
from heihachi.errors import ConfigError, PluginError
from heihachi.tasks import AudioBatch, DrumTranscriber

#: what users write to drop a label's hits
DROP = ("none", "drop", "ignore", "")

#: whole-word synonyms of each class (lower-case tokens of a label)
_WORDS: dict[str, set[str]] = {
    "kick": {"kick", "kicks", "kickdrum", "bd", "bassdrum", "kik"},
    "snare": {"snare", "snares", "sd", "rimshot", "rim", "clap", "claps", "sidestick"},
    "hihat": {"hihat", "hihats", "hat", "hats", "hh", "chh", "ohh"},
    "tom": {"tom", "toms", "tomtom", "floortom", "racktom"},
    "cymbal": {"cymbal", "cymbals", "crash", "ride", "china", "splash", "overhead",
               "overheads", "bell"},
}


def default_class(label: str) -> str | None:
    """The drum class a model label names by its words, or None if none or several."""
    tokens = set(re.findall(r"[a-z0-9]+", label.lower()))
    if {"bass", "drum"} <= tokens:
        tokens.add("bassdrum")
    if {"hi", "hat"} <= tokens:
        tokens.add("hihat")
    found = {cls for cls, words in _WORDS.items() if tokens & words}
    if found == {"hihat", "cymbal"} and "bell" in tokens:
        found = {"cymbal"}
    return found.pop() if len(found) == 1 else None


def map_labels(labels: list[str], label_map: dict[str, str],
               unmapped: str = "error") -> dict[str, str | None]:
    """Map each model label to a drum class (None = drop its hits).

    ``label_map`` wins over the word rules; its keys match labels exactly or
    case-insensitively, its values are drum classes or ``none``.

    Raises:
        ConfigError: a ``label_map`` value is no drum class, or (``unmapped=error``)
            some label maps nowhere.
    """
    from heihachi.results import DRUM_CLASSES  # (numpy: not at import time)

    if unmapped not in ("error", "drop"):
        raise ConfigError(f"drums.unmapped={unmapped!r}: use error or drop")
    lowered = {str(k).lower(): str(v).strip().lower() for k, v in label_map.items()}
    out: dict[str, str | None] = {}
    missing = []
    for label in labels:
        target = lowered.get(label.lower())
        if target is not None:
            if target in DROP:
                out[label] = None
            elif target in DRUM_CLASSES:
                out[label] = target
            else:
                raise ConfigError(f"drums.label_map[{label!r}]={target!r}: map to one of "
                                  f"{', '.join(DRUM_CLASSES)} or none")
            continue
        cls = default_class(label)
        if cls is None and unmapped == "error":
            missing.append(label)
        out[label] = cls
    if missing:
        raise ConfigError(
            f"the model's labels {missing} name no drum class ({', '.join(DRUM_CLASSES)}); "
            "map them, e.g. `drums.label_map={" + f"{missing[0]}: hihat" + "}` (or `none` to "
            "drop those hits), or set drums.unmapped=drop")
    known = {lab.lower() for lab in labels}
    unknown = sorted(str(k) for k in label_map if str(k).lower() not in known)
    if unknown:
        raise ConfigError(f"drums.label_map names labels the model does not have: "
                          f"{unknown}; its labels are {labels}")
    return out


class HFDrumClassifier(DrumTranscriber):
    """Drum hits: onset detection + any transformers audio classifier on each hit."""

    name = "hf-audio-classification"
    sample_rate = 16_000  # replaced by the feature extractor's rate in load()
    channels = 1
    window_s = 30.0
    hop_s = 29.0  # 1 s overlap: a hit owned by a window always has its full crop in it
    default_model = "DunnBC22/wav2vec2-base-Drum_Kit_Sounds"
    tiny_model: ClassVar[str] = "tiny/drum-classifier"

    @dataclass
    class Config:
        model: str = "DunnBC22/wav2vec2-base-Drum_Kit_Sounds"
        revision: str | None = None
        trust_remote_code: bool = False
        label_map: dict[str, str] = field(default_factory=dict)  # model label -> class/none
        unmapped: str = "error"  # error | drop: labels no rule or label_map maps
        crop_s: float = 0.3  # audio classified per hit
        pre_s: float = 0.01  # crop starts this long before the onset
        onset_threshold: float = 0.05  # see heihachi.music.onsets.detect_onsets
        min_gap_s: float = 0.03  # onsets closer than this merge
        min_confidence: float = 0.0  # drop hits below this class probability
        velocity_floor_db: float = -60.0  # peak level that maps to velocity 0
        max_crops: int = 64  # crops per forward pass (memory bound)

    def load(self) -> None:
        from transformers import (
            AutoConfig,
            AutoFeatureExtractor,
            AutoModelForAudioClassification,
        )
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        cfg = self.config
        if not 0.02 <= cfg.crop_s <= 10.0 or not 0.0 <= cfg.pre_s < cfg.crop_s:
            raise ConfigError(f"drums.crop_s={cfg.crop_s}, drums.pre_s={cfg.pre_s}: need "
                              "0.02 <= crop_s <= 10 and 0 <= pre_s < crop_s")
        if cfg.max_crops < 1 or cfg.velocity_floor_db >= 0:
            raise ConfigError("drums.max_crops must be >= 1 and drums.velocity_floor_db < 0")
        path = self.resolve_model(cfg.model, cfg.revision)
        trust = cfg.trust_remote_code
        try:
            mcfg = AutoConfig.from_pretrained(path, trust_remote_code=trust)
            self.processor = AutoFeatureExtractor.from_pretrained(path, trust_remote_code=trust)
            model = AutoModelForAudioClassification.from_pretrained(path,
                                                                    trust_remote_code=trust)
        except ValueError as e:
            raise PluginError(f"drums.model={cfg.model!r} is not a transformers audio-"
                              f"classification model: {str(e).splitlines()[0]}") from None
        self.model = model.eval().to(self.device)
        self.sample_rate = int(self.processor.sampling_rate)
        self.labels = [str(mcfg.id2label[i]) for i in range(len(mcfg.id2label))]
        from heihachi.results import DRUM_CLASSES

        mapping = map_labels(self.labels, dict(cfg.label_map), cfg.unmapped)
        # label index -> class index (len(DRUM_CLASSES) = dropped)
        self.classes = [*DRUM_CLASSES]
        self.label_class = [self.classes.index(mapping[lab]) if mapping[lab] else len(
            self.classes) for lab in self.labels]

    def window(self) -> tuple[float | None, float | None]:
        return self.window_s, self.hop_s

    def transcribe(self, batch: AudioBatch) -> list[Any]:
        import numpy as np

        from heihachi.music.onsets import detect_onsets
        from heihachi.results import DrumHit, DrumHits

        cfg = self.config
        sr = batch.sample_rate
        n_crop, n_pre = round(cfg.crop_s * sr), round(cfg.pre_s * sr)
        crops: list[np.ndarray] = []
        owners: list[tuple[int, float, float]] = []  # (row, time, velocity)
        for row, x in enumerate(batch.unpadded()):
            audio = x.float().cpu().numpy()
            onsets = detect_onsets(audio, sr, threshold=cfg.onset_threshold,
                                   min_gap_s=cfg.min_gap_s)
            for t, peak in zip(onsets.times, onsets.peaks, strict=True):
                a = max(0, round(t * sr) - n_pre)
                crop = np.zeros(n_crop, np.float32)
                piece = audio[a:a + n_crop]
                crop[:len(piece)] = piece
                crops.append(crop)
                owners.append((row, float(t), self._velocity(float(peak))))
        probs = self._classify(crops)  # [N, labels]
        hits: list[list[Any]] = [[] for _ in range(len(batch))]
        n_cls = len(self.classes)
        index = np.asarray(self.label_class)
        for (row, t, vel), p in zip(owners, probs, strict=True):
            per_class = np.bincount(index, weights=p, minlength=n_cls + 1)
            c = int(np.argmax(per_class))
            if c == n_cls or per_class[c] < cfg.min_confidence:
                continue  # a dropped label won, or too unsure
            label = self.labels[int(np.argmax(np.where(index == c, p, -1.0)))]
            hits[row].append(DrumHit(time=t, drum_class=self.classes[c],
                                     confidence=float(per_class[c]), velocity=vel, label=label))
        return [DrumHits(h) for h in hits]

    def _velocity(self, peak: float) -> float:
        floor = self.config.velocity_floor_db
        db = 20.0 * math.log10(max(peak, 1e-12))
        return float(min(1.0, max(0.0, (db - floor) / -floor)))

    def _classify(self, crops: list[Any]) -> Any:
        """Softmax probabilities ``[N, labels]`` of equal-length crops, ``max_crops`` at a time."""
        import numpy as np
        import torch

        if not crops:
            return np.zeros((0, len(self.labels)), np.float32)
        out = []
        step = self.config.max_crops
        for i in range(0, len(crops), step):
            inputs = self.processor(crops[i:i + step], sampling_rate=self.sample_rate,
                                    return_tensors="pt")
            # all crops have one length: no padding, so no attention mask is needed
            inputs = {k: v.to(self.device) for k, v in inputs.items()
                      if k in ("input_values", "input_features")}
            logits = self.model(**inputs).logits
            out.append(torch.softmax(logits.float(), dim=-1).cpu().numpy())
        return np.concatenate(out)

    @classmethod
    def make_tiny(cls, cache_dir: Path) -> list[Path]:
        """A tiny random-weight Wav2Vec2ForSequenceClassification with the default model's
        labels (kick, overheads, snare, toms), saved like the hub: tiny/drum-classifier."""
        import torch
        import transformers as tf

        torch.manual_seed(0)
        labels = {0: "kick", 1: "overheads", 2: "snare", 3: "toms"}
        config = tf.Wav2Vec2Config(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
            conv_dim=(16,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
            num_labels=4, id2label=labels, label2id={v: k for k, v in labels.items()},
            classifier_proj_size=16)
        model = tf.Wav2Vec2ForSequenceClassification(config)
        fe = tf.Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                         do_normalize=True, return_attention_mask=False)
        out = cache_dir / cls.tiny_model
        out.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(out, safe_serialization=True)
        fe.save_pretrained(out)
        return [out]


@heihachi.hookimpl
def register_drum_models(register: Any) -> None:
    register(HFDrumClassifier)
