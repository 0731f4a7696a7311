"""Training checkpoints that survive interruption, and resuming from them."""
from __future__ import annotations

import os
from pathlib import Path

import torch


def save_atomic(obj, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path, modules: dict, map_location="cpu") -> int:
    """Restores every module/optimizer state present in the checkpoint; returns its step (0 if none)."""
    if not path.exists():
        return 0
    ckpt = torch.load(path, map_location=map_location)
    for name, module in modules.items():
        if name in ckpt:
            module.load_state_dict(ckpt[name])
    return int(ckpt.get("step", 0))
