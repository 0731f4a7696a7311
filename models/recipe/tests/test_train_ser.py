import random

import torch

from emomix.profiles import soft_label
from emomix.train_ser import random_crops


def item(frames: int, params: dict) -> dict:
    return {"mel": torch.randn(80, frames).half(), "params": params}


def test_crops_carry_each_utterances_soft_label_and_one_length():
    items = [item(300, {"intensity": 0.3, "mix": {"happy": 1.0}}),
             item(40, {"intensity": 0.9, "mix": {"sad": 0.4, "angry": 0.6}}),
             item(120, {"intensity": 1.0, "mix": {"neutral": 1.0}})]
    mels, targets = random_crops(items, batch=3, rng=random.Random(0), min_frames=64, max_frames=64)
    assert mels.shape == (3, 80, 64)
    # Crops come in a random order; match each target to its utterance by label.
    expected = sorted(tuple(round(v, 6) for v in soft_label(it["params"])) for it in items)
    assert sorted(tuple(round(v, 6) for v in t.tolist()) for t in targets) == expected
    assert torch.allclose(targets.sum(dim=1), torch.ones(3))
