"""Loading prepared tensors and cutting training batches."""
from __future__ import annotations

import random
from pathlib import Path

import torch


def load_items(corpus: Path, split: str, with_text: bool = False) -> list[dict]:
    audio = torch.load(corpus / "audio.pt")["items"]
    items = [it for it in audio if it["split"] == split]
    if with_text:
        text = torch.load(corpus / "text.pt")["items"]
        items = [{**it, **text[it["id"]]} for it in items if it["id"] in text]
    return items


def pad_stack(tensors: list[torch.Tensor], value=0) -> torch.Tensor:
    """Pads the last axis to the longest and stacks."""
    n = max(t.shape[-1] for t in tensors)
    return torch.stack([torch.nn.functional.pad(t, (0, n - t.shape[-1]), value=value) for t in tensors])


def length_batches(lengths: list[int], batch: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar lengths, so padding stays small."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i] + rng.random())
    batches = [order[i:i + batch] for i in range(0, len(order), batch)]
    rng.shuffle(batches)
    return batches
