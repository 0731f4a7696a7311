"""train-ser: the speech emotion recogniser, taught each utterance's soft label (its
mix and intensity, profiles.soft_label: a recorded dataset's hard label, softened toward
neutral where metadata.csv gives an intensity), then every utterance's embedding and each
emotion's centroid (mean embedding of its single-emotion training utterances at the
usual intensities), over the whole corpus and per speaker."""
from __future__ import annotations

import random
from pathlib import Path

import torch
import torch.nn.functional as F

from ..data.prepared import load_items
from ..data.profiles import EMOTIONS, TYPICAL_INTENSITY, soft_label
from ..networks.ser import SER
from .checkpoints import load_checkpoint, save_atomic
from .loop import Progress, Stopper, setup


def random_crops(items: list[dict], batch: int, rng: random.Random, min_frames=48, max_frames=256):
    """Crops of 0.55–3 s so the recogniser also works on short reference clips."""
    n = rng.randint(min_frames, max_frames)
    mels, targets = [], []
    for it in rng.sample(items, batch):
        mel = it["mel"].float()
        if mel.shape[1] > n:
            s = rng.randint(0, mel.shape[1] - n)
            mel = mel[:, s:s + n]
        else:
            mel = F.pad(mel, (0, n - mel.shape[1]), mode="replicate")
        mels.append(mel)
        targets.append(soft_label(it["params"]))
    return torch.stack(mels), torch.tensor(targets)


@torch.no_grad()
def embed_all(model: SER, items: list[dict], device) -> dict[str, torch.Tensor]:
    model.eval()
    return {it["id"]: model(it["mel"].float()[None].to(device))[0][0].cpu() for it in items}


def typical(items: list[dict]) -> list[dict]:
    """Single-emotion utterances at the usual intensities: weak and blended ones
    (make-corpus --weak, --blends) would pull each class's anchor and centroid toward another."""
    return [it for it in items if len(it["params"]["mix"]) == 1 and it["params"]["intensity"] >= TYPICAL_INTENSITY[0]]


@torch.no_grad()
def anchor(model: SER, items: list[dict], device) -> None:
    model.eval()
    chosen = typical(items)
    features = torch.cat([model.features(it["mel"].float()[None].to(device))[0] for it in chosen])
    model.set_anchors(features, torch.tensor([it["emotion"] for it in chosen], device=device))


def emotion_centroids(items: list[dict], embeddings: dict) -> tuple[list[str], torch.Tensor]:
    """The emotions present among the items (in the recipe's order) and each one's mean
    embedding [K,E]. A corpus need not hold every emotion, nor every speaker of it all."""
    present = sorted({it["emotion"] for it in items})
    cents = [torch.stack([embeddings[it["id"]] for it in items if it["emotion"] == k]).mean(0) for k in present]
    return [EMOTIONS[k] for k in present], torch.stack(cents) if cents else torch.zeros(0)


@torch.no_grad()
def accuracy(model: SER, items: list[dict], device) -> float:
    model.eval()
    hits = sum(int(model(it["mel"].float()[None].to(device))[1].argmax()) == it["emotion"] for it in items)
    return hits / max(len(items), 1)


def add_arguments(p):
    p.add_argument("--corpus", default="work/corpus")
    p.add_argument("--out", default="work/runs/ser")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--embedding-dim", type=int, default=64)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default, all cores)")
    p.add_argument("--device", default="cpu")


def run(a) -> None:
    device = setup(a.threads, a.device)
    out, corpus = Path(a.out), Path(a.corpus)
    out.mkdir(parents=True, exist_ok=True)
    train, held = load_items(corpus, "train"), load_items(corpus, "eval")
    model = SER(embedding_dim=a.embedding_dim).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.steps)
    ckpt_path = out / "checkpoint.pt"
    step = load_checkpoint(ckpt_path, {"model": model, "opt": opt, "sched": sched}, device)
    resumed_at = step
    rng, stopper, progress = random.Random(step), Stopper(), Progress("train-ser", a.steps, step)

    def save():
        save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                     "step": step, "config": {"embedding_dim": a.embedding_dim}}, ckpt_path)

    while step < a.steps and not stopper.stop:
        model.train()
        mel, target = random_crops(train, a.batch, rng)
        loss = F.cross_entropy(model(mel.to(device))[1], target.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        progress.update(step, loss=loss.item())
        if step % 500 == 0 or step == a.steps:
            save()
    if step < a.steps:
        save()
        print(f"train-ser: stopped at step {step}; run again to resume", flush=True)
        return
    if step > resumed_at or not bool(model.anchors.any()):
        # The anchors belong to the classifier just trained. A run that only re-embeds (resumed
        # at its last step, perhaps on a corpus grown since) keeps them: re-anchored on other
        # utterances, every embedding an acoustic model trained on would move.
        anchor(model, train, device)
    save()
    acc = accuracy(model, held, device)
    print(f"train-ser: held-out utterance accuracy {acc:.3f}", flush=True)
    embeddings = embed_all(model, train + held, device)
    names, centroids = emotion_centroids(typical(train), embeddings)
    per_speaker = {}
    for spk in sorted({str(it["speaker"]) for it in train if it.get("speaker") is not None}):
        per_speaker[spk] = dict(zip(*emotion_centroids([it for it in typical(train) if str(it["speaker"]) == spk],
                                                       embeddings)))
    save_atomic({"embeddings": embeddings, "centroids": centroids, "emotions": names,
                 "speaker_centroids": per_speaker, "heldout_accuracy": acc}, out / "embeddings.pt")
    for spk, cents in per_speaker.items():
        print(f"train-ser: speaker {spk}: centroids of {', '.join(cents)}", flush=True)
    print(f"train-ser: wrote {out / 'embeddings.pt'}", flush=True)
