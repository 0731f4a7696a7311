"""pack-checkpoints: the training state a later session needs to go on training, small
enough to commit: model weights in float16 plus step, configuration and scheduler state;
optimizer moments are dropped (Adam re-estimates them within a few dozen steps).

A run resumes from a packed file copied to `<run>/checkpoint.pt`: load_checkpoint casts
the weights back to float32 and the optimizer starts afresh. `export` reads them as well.
"""
from __future__ import annotations

from pathlib import Path

import torch

from .checkpoints import save_atomic

RUNS = ("ser", "acoustic", "vocoder")


def is_optimizer_state(value) -> bool:
    return isinstance(value, dict) and "param_groups" in value and "state" in value


def halved(value):
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.half()
    if isinstance(value, dict):
        return {k: halved(v) for k, v in value.items()}
    return value


def pack(src: Path, dst: Path) -> None:
    ckpt = torch.load(src, map_location="cpu")
    kept = {k: (halved(v) if isinstance(v, dict) and not k.startswith("sched") else v)
            for k, v in ckpt.items() if not is_optimizer_state(v)}
    dst.parent.mkdir(parents=True, exist_ok=True)
    save_atomic(kept, dst)


def add_arguments(p):
    p.add_argument("--runs", default="work/runs", help="folder of the training runs (ser, acoustic, vocoder)")
    p.add_argument("--out", default="checkpoints/slt-emo", help="where the packed files go (<run>.pt)")


def run(a) -> None:
    for name in RUNS:
        src = Path(a.runs) / name / "checkpoint.pt"
        dst = Path(a.out) / f"{name}.pt"
        pack(src, dst)
        print(f"pack-checkpoints: {src} ({src.stat().st_size / 1e6:.1f} MB) -> {dst} "
              f"({dst.stat().st_size / 1e6:.1f} MB)", flush=True)
