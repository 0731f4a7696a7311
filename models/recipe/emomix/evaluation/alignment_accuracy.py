"""alignment-accuracy: where monotonic alignment search puts the phoneme boundaries of a
corpus whose true timing is known (the Festival teacher corpus: Festival reports every
segment's end), against that timing. Train with `train-acoustic --align mas`, then measure
a checkpoint; the figures in the recipe README come from this command."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..audio import MelConfig
from ..data.prepared import load_items
from ..networks.acoustic import AcousticModel
from ..networks.mas import mas_durations
from ..training.train_acoustic import make_batch


def boundary_errors(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Frames per phoneme, both [N] → |difference| of every inner boundary (the end of each
    phoneme but the last, which both put at the utterance's end), in frames."""
    return np.abs(np.cumsum(found)[:-1] - np.cumsum(truth)[:-1])


def add_arguments(p):
    p.add_argument("--corpus", default="work/corpus")
    p.add_argument("--acoustic", default="work/runs/acoustic/checkpoint.pt")
    p.add_argument("--ser", default="work/runs/ser", help="train-ser output (embeddings.pt)")
    p.add_argument("--split", default="train")
    p.add_argument("--limit", type=int, default=0, help="measure the first N utterances (0: all)")
    p.add_argument("--report", help="append the figures as one JSON line to this file")
    p.add_argument("--device", default="cpu")


@torch.no_grad()
def run(a) -> None:
    device = torch.device(a.device)
    ckpt = torch.load(a.acoustic, map_location="cpu")
    model = AcousticModel(**ckpt["config"])
    model.load_state_dict(ckpt["model"])
    model.to(device).eval()
    items = [it for it in load_items(Path(a.corpus), a.split, with_text=True) if "durations" in it]
    items = items[: a.limit] if a.limit else items
    if not items:
        raise SystemExit("alignment-accuracy: the corpus has no utterances with known durations")
    embeddings = torch.load(Path(a.ser) / "embeddings.pt")["embeddings"]
    errors = []
    for start in range(0, len(items), 16):
        idx = list(range(start, min(start + 16, len(items))))
        ids, id_lengths, truth, mel, mel_lengths, emotion, speaker = make_batch(
            items, idx, embeddings, device, speakers={s: i for i, s in enumerate(ckpt.get("speakers", []))})
        mu, _, _ = model.encoder(ids, id_lengths, model.condition(emotion, speaker))
        found = mas_durations(mu, mel, id_lengths, mel_lengths).cpu().numpy()
        truth = truth.cpu().numpy()
        for b, n in enumerate(id_lengths.tolist()):
            errors.append(boundary_errors(found[b, :n], truth[b, :n]))
    cfg = MelConfig()
    ms = np.concatenate(errors) * (1000.0 * cfg.hopLength / cfg.sampleRate)
    figures = {"checkpoint": str(a.acoustic), "step": int(ckpt.get("step", 0)), "utterances": len(items),
               "boundaries": int(ms.size), "meanMs": round(float(ms.mean()), 1),
               "p95Ms": round(float(np.percentile(ms, 95)), 1),
               "within20Ms": round(float(np.mean(ms <= 20.0)), 3)}
    print(f"alignment-accuracy: step {figures['step']}, {len(items)} utterances, {ms.size} boundaries: "
          f"mean {figures['meanMs']} ms, p95 {figures['p95Ms']} ms, {100 * figures['within20Ms']:.1f} % within 20 ms",
          flush=True)
    if a.report:
        with open(a.report, "a") as f:
            f.write(json.dumps(figures) + "\n")
