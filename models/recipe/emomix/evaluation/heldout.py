"""Held-out sentence sets for `evaluate`, each with the teacher's neutral audio and mels.

- `long`: the corpus's own held-out split (LJ Speech transcripts and conversational lines,
  30–160 characters, from the same sources as the training text).
- `short`: everyday sentences of 5–9 words written for this project (corpus/heldout-short.txt).
- `conversational`: lines an agent says, with questions, numbers, times and money
  (corpus/heldout-conversational.txt).

The two written sets are never trained on (`make-corpus` leaves them out of its plan), so they
measure what a user meets: text the voice has not seen, shorter than the training
sentences. Their teacher audio is rendered here, neutral at full intensity, exactly as
make-corpus renders held-out sentences, and trimmed the way training audio is.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..audio import MelConfig, log_mel, read_wav
from ..data.corpus import SAMPLE_RATE, WRITTEN_HELDOUT, read_lines, render_batch
from ..data.prepare import trim_bounds
from ..data.prepared import load_items
from ..data.profiles import EMOTIONS, NEUTRAL, draw

SET_NAMES = ("long", *WRITTEN_HELDOUT)
RENDER_SEED = 16


@dataclass
class HeldoutSet:
    """texts[i] with its teacher audio (float32 in [-1, 1], trimmed) and log-mel [80, T]."""
    name: str
    texts: list[str]
    audio: list[np.ndarray]
    mels: list[np.ndarray]


def from_corpus(corpus: Path, limit: int) -> HeldoutSet:
    neutral = sorted((it for it in load_items(corpus, "eval") if EMOTIONS[it["emotion"]] == NEUTRAL),
                     key=lambda it: it["text"])[:limit]
    return HeldoutSet("long", [it["text"] for it in neutral],
                      [it["audio"].numpy().astype(np.float32) / 32767.0 for it in neutral],
                      [it["mel"].float().numpy() for it in neutral])


def render_teacher(name: str, texts: list[str], work: Path) -> HeldoutSet:
    """Festival's neutral rendering of each text, cached in work/<name>/ between runs."""
    out = work / name
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(RENDER_SEED)
    items = [{"id": f"{name}{i:03d}", "text": t, "split": "eval", "emotion": NEUTRAL,
              "params": draw({NEUTRAL: 1.0}, rng, intensity=1.0)} for i, t in enumerate(texts)]
    todo = [it for it in items if not (out / f"{it['id']}.npz").exists()]
    for k in range(0, len(todo), 50):
        for rec in render_batch(todo[k:k + 50], out):
            wav, sr = read_wav(out / rec["wav"])
            start, end = trim_bounds([(s, float(e)) for s, e in rec["segments"]], len(wav) / sr)
            a = wav[int(round(start * sr)): int(round(end * sr))]
            a = a[: len(a) // MelConfig.hopLength * MelConfig.hopLength].astype(np.float32)
            mel = log_mel(torch.from_numpy(a)[None])[0].numpy()
            np.savez(out / f"{rec['id']}.npz", audio=a, mel=mel)
            (out / rec["wav"]).unlink()
    loaded = [np.load(out / f"{it['id']}.npz") for it in items]
    return HeldoutSet(name, texts, [z["audio"] for z in loaded], [z["mel"] for z in loaded])


def load_set(name: str, corpus: Path, work: Path, limit: int) -> HeldoutSet:
    if name == "long":
        return from_corpus(corpus, limit)
    if name not in WRITTEN_HELDOUT:
        raise SystemExit(f"evaluate: unknown set {name!r}; choose from {','.join(SET_NAMES)}")
    assert SAMPLE_RATE == MelConfig.sampleRate
    return render_teacher(name, read_lines(WRITTEN_HELDOUT[name])[:limit], work)
