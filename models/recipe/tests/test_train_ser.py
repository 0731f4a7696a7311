import random
from argparse import Namespace

import torch

from emomix.data.profiles import soft_label
from emomix.networks.ser import SER
from emomix.training.train_ser import random_crops, run, typical


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


def test_the_embedding_is_the_posterior_times_the_class_anchors():
    torch.manual_seed(0)
    ser = SER(channels=8, embedding_dim=6, n_classes=3).eval()
    features = torch.randn(9, 6)
    labels = torch.tensor([0, 1, 2] * 3)
    ser.set_anchors(features, labels)
    for k in range(3):
        assert torch.allclose(ser.anchors[k], features[labels == k].mean(0))
    with torch.no_grad():
        mel = torch.randn(2, 80, 40) - 5
        embedding, logits = ser(mel)
        assert torch.allclose(embedding, torch.softmax(logits, 1) @ ser.anchors, atol=1e-6)
        # Linear in the classes: an even posterior over two classes is their anchors' midpoint,
        # the point the runtime's 50/50 mix of two centroids lands on.
        ser.classify.weight.zero_()
        ser.classify.bias.copy_(torch.tensor([0.0, 0.0, -1e4]))
        assert torch.allclose(ser(mel)[0], (ser.anchors[0] + ser.anchors[1]).expand(2, -1) / 2, atol=1e-6)


def test_anchors_come_from_typical_single_emotion_utterances_only():
    items = [{"emotion": 1, "params": {"intensity": 0.9, "mix": {"happy": 1.0}}},
             {"emotion": 1, "params": {"intensity": 0.3, "mix": {"happy": 1.0}}},
             {"emotion": 2, "params": {"intensity": 1.0, "mix": {"sad": 0.6, "angry": 0.4}}},
             {"emotion": 0, "params": {"intensity": 1.0, "mix": {"neutral": 1.0}}}]
    assert typical(items) == [items[0], items[3]]


def fake_corpus(path, n: int):
    """audio.pt of n training and 5 held-out utterances, every emotion; ids stable across sizes."""
    names = ["neutral", "happy", "sad", "angry", "surprise"]
    items = []
    for split, count in (("train", n), ("eval", 5)):
        for i in range(count):
            k = i % 5
            items.append({"id": f"{split}{i:03d}", "split": split, "emotion": k, "speaker": None,
                          "params": {"intensity": 1.0, "mix": {names[k]: 1.0}},
                          "mel": (torch.randn(80, 60, generator=torch.Generator().manual_seed(hash((split, i)) % 2**31)) + k).half()})
    path.mkdir(parents=True, exist_ok=True)
    torch.save({"items": items}, path / "audio.pt")
    return path


def test_re_embedding_a_grown_corpus_keeps_the_anchors_and_every_embedding(tmp_path):
    args = dict(out=str(tmp_path / "ser"), steps=2, batch=4, lr=1e-3, embedding_dim=8, threads=1, device="cpu")
    run(Namespace(corpus=str(fake_corpus(tmp_path / "small", 10)), **args))
    first = torch.load(tmp_path / "ser" / "embeddings.pt")
    anchors = torch.load(tmp_path / "ser" / "checkpoint.pt")["model"]["anchors"].clone()
    # At its last step on a corpus with more utterances: nothing trains, the anchors stay.
    run(Namespace(corpus=str(fake_corpus(tmp_path / "grown", 30)), **args))
    again = torch.load(tmp_path / "ser" / "embeddings.pt")
    assert torch.equal(torch.load(tmp_path / "ser" / "checkpoint.pt")["model"]["anchors"], anchors)
    assert len(again["embeddings"]) == 35
    for key, value in first["embeddings"].items():
        assert torch.allclose(again["embeddings"][key], value)
