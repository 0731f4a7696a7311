"""train-acoustic: encoder, duration predictor and score estimator on the prepared
corpus, each utterance conditioned on its own SER embedding."""
from __future__ import annotations

import random
from pathlib import Path

import torch

from ..data.prepared import length_batches, load_items, pad_stack
from ..networks.acoustic import AcousticModel
from .checkpoints import load_checkpoint, save_atomic
from .loop import MixedPrecision, Progress, Stopper, prefetch, setup


def add_arguments(p):
    p.add_argument("--corpus", default="work/corpus")
    p.add_argument("--ser", default="work/runs/ser", help="train-ser output (embeddings.pt)")
    p.add_argument("--out", default="work/runs/acoustic")
    p.add_argument("--preset", choices=["dilated1d", "unet2d"], default="dilated1d")
    p.add_argument("--steps", type=int, default=60000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--warmup", type=int, default=1000, help="steps of linear LR warm-up")
    p.add_argument("--init", help="start from this checkpoint's weights (a packed one will do); parts it "
                                  "lacks, such as a frame decoder added since, start fresh")
    p.add_argument("--segment-frames", type=int, default=172, help="decoder training segment (Grad-TTS out_size)")
    p.add_argument("--save-every", type=int, default=500)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default, all cores)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--align", choices=["festival", "mas"], default="festival",
                   help="phoneme durations: the corpus's own (Festival's segment times, the teacher corpus) or "
                        "monotonic alignment search on the current encoder (imported recordings)")
    p.add_argument("--speaker-dim", type=int, default=64, help="size of each speaker's embedding (several speakers)")
    p.add_argument("--no-amp", action="store_true", help="full float32 on CUDA (mixed precision is the default there)")


def make_batch(items, idx, embeddings, device, with_durations: bool = True, speakers: dict | None = None):
    """The batch's tensors on the device; durations None when the model aligns them itself,
    speaker indices None for a one-speaker model."""
    its = [items[i] for i in idx]
    pin = device.type == "cuda"

    def put(x):
        return (x.pin_memory() if pin else x).to(device, non_blocking=pin)

    ids = put(pad_stack([it["ids"].long() for it in its]))
    durations = put(pad_stack([it["durations"].long() for it in its])) if with_durations else None
    mel = put(pad_stack([it["mel"].float() for it in its]))
    id_lengths = put(torch.tensor([len(it["ids"]) for it in its]))
    mel_lengths = put(torch.tensor([it["mel"].shape[1] for it in its]))
    emotion = put(torch.stack([embeddings[it["id"]] for it in its]))
    speaker = put(torch.tensor([speakers[it["speaker"]] for it in its])) if speakers else None
    return ids, id_lengths, durations, mel, mel_lengths, emotion, speaker


def corpus_speakers(items: list[dict]) -> list[str]:
    """The corpus's speaker ids in a fixed order; [] for a one-speaker corpus (the teacher's,
    or an import of one speaker), which gets no speaker table."""
    ids = sorted({str(it["speaker"]) for it in items if it.get("speaker") is not None})
    return ids if len(ids) > 1 else []


def check_alignable(items: list[dict], align: str) -> list[dict]:
    """Festival alignment needs every utterance's durations; MAS needs at least one frame
    per phoneme, and utterances with fewer are left out (and counted)."""
    if align == "festival":
        missing = sum("durations" not in it for it in items)
        if missing:
            raise SystemExit(f"train-acoustic: {missing} of {len(items)} utterances have no durations "
                             "(an imported corpus); train with --align mas")
        return items
    kept = [it for it in items if it["mel"].shape[1] >= len(it["ids"])]
    if len(kept) < len(items):
        print(f"train-acoustic: {len(items) - len(kept)} utterances have fewer frames than phonemes; left out",
              flush=True)
    return kept


def run(a) -> None:
    device = setup(a.threads, a.device)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    items = check_alignable(load_items(Path(a.corpus), "train", with_text=True), a.align)
    symbols = torch.load(Path(a.corpus) / "text.pt")["symbols"]
    ser = torch.load(Path(a.ser) / "embeddings.pt")
    embeddings = ser["embeddings"]
    speakers = corpus_speakers(items)
    config = {"n_symbols": len(symbols), "embedding_dim": int(ser["centroids"].shape[1]), "preset": a.preset,
              "n_speakers": len(speakers), "speaker_dim": a.speaker_dim if speakers else 0}
    speaker_index = {s: i for i, s in enumerate(speakers)}
    model = AcousticModel(**config).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / a.warmup) * max(0.1, 1.0 - s / a.steps))
    ckpt_path = out / "checkpoint.pt"
    step = load_checkpoint(ckpt_path, {"model": model, "opt": opt, "sched": sched}, device)
    if step == 0 and a.init:
        missing = init_weights(model, Path(a.init))
        print(f"train-acoustic: weights from {a.init}; fresh: {', '.join(sorted(missing)) or 'none'}", flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"train-acoustic: {len(items)} utterances, {len(speakers) or 1} speaker(s), {n_params / 1e6:.2f} M "
          f"parameters ({a.preset}), resuming at step {step}", flush=True)
    stopper, progress = Stopper(), Progress("train-acoustic", a.steps, step)

    def save():
        save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                     "step": step, "config": config, "symbols": symbols, "align": a.align,
                     "speakers": speakers}, ckpt_path)

    precision = MixedPrecision(device, enabled=not a.no_amp)
    epoch = step // max(len(items) // a.batch, 1)
    while step < a.steps and not stopper.stop:
        order = length_batches([len(it["ids"]) for it in items], a.batch, random.Random(epoch))
        for batch in prefetch(order, lambda idx: make_batch(items, idx, embeddings, device, a.align == "festival",
                                                            speaker_index)):
            model.train()
            with precision.autocast():
                dur, prior, frame, diff = model.losses(*batch[:6], a.segment_frames, speaker=batch[6])
            precision.step(dur + prior + frame + diff, opt, model.parameters())
            sched.step()
            step += 1
            progress.update(step, dur=dur.item(), prior=prior.item(), frame=frame.item(), diff=diff.item())
            if step % a.save_every == 0:
                save()
            if step >= a.steps or stopper.stop:
                break
        epoch += 1
    save()
    print(f"train-acoustic: saved step {step} to {ckpt_path}", flush=True)


def init_weights(model: AcousticModel, path: Path) -> set[str]:
    """Loads every tensor of the checkpoint that the model has with the same shape; returns
    the top-level parts of the model that got nothing."""
    own = model.state_dict()
    found = {k: v.float() for k, v in torch.load(path, map_location="cpu")["model"].items()
             if k in own and own[k].shape == v.shape}
    model.load_state_dict(found, strict=False)
    return {k.split(".")[0] for k in own if k not in found}
