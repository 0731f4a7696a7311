"""train-vocoder: the Vocos-style vocoder on random segments of the prepared corpus.

Spectral losses first (mel L1 and multi-resolution STFT); from --adv-start on, a
multi-period and a multi-resolution discriminator join (hinge loss + feature
matching), because spectral losses alone leave noisy high harmonics.
"""
from __future__ import annotations

import math
import random
from pathlib import Path

import torch

from ..audio import MelConfig, write_wav
from ..data.prepared import load_items
from ..networks.discriminators import (MultiPeriodDiscriminator, MultiResolutionDiscriminator, MultiResolutionSTFTLoss,
                                       discriminator_loss, feature_loss, generator_loss, mel_loss)
from ..networks.vocoder import Vocoder, VocoderConfig
from .checkpoints import load_checkpoint, save_atomic
from .loop import Progress, Stopper, setup

MEL_WEIGHT = 45.0
WARMUP_STEPS = 1000
EVAL_UTTERANCES = 8
SAMPLE_UTTERANCES = 2


def add_arguments(p):
    p.add_argument("--corpus", default="work/corpus", help="prepared corpus folder (audio.pt)")
    p.add_argument("--out", default="work/runs/vocoder")
    p.add_argument("--steps", type=int, default=40000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--segment-frames", type=int, default=32, help="training segment in mel frames (32 = 0.37 s)")
    p.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (warm-up, then cosine to a tenth)")
    p.add_argument("--adv-start", type=int, default=4000, help="step at which the discriminators join")
    p.add_argument("--stft-weight", type=float, default=1.0)
    p.add_argument("--fm-weight", type=float, default=2.0, help="feature-matching weight")
    p.add_argument("--dim", type=int, default=VocoderConfig.dim)
    p.add_argument("--intermediate", type=int, default=VocoderConfig.intermediate)
    p.add_argument("--layers", type=int, default=VocoderConfig.layers)
    p.add_argument("--disc-width", type=int, default=16,
                   help="discriminator width (period: w..16w channels, resolution: w); 32 on a GPU")
    p.add_argument("--save-every", type=int, default=500)
    p.add_argument("--eval-every", type=int, default=2000, help="held-out mel L1 and sample WAVs")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default, all cores)")
    p.add_argument("--device", default="cpu")


def lr_factor(step: int, total: int, warmup: int = WARMUP_STEPS) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak at `total`."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.1 + 0.45 * (1 + math.cos(math.pi * progress))


def random_segments(items: list[dict], batch: int, frames: int, rng: random.Random,
                    hop: int = MelConfig.hopLength) -> tuple[torch.Tensor, torch.Tensor]:
    """mel [B, 80, frames] float32 and the aligned audio [B, frames·hop] in [-1, 1].
    Utterances are drawn in proportion to their length, so every frame is equally likely."""
    usable = [it for it in items if it["mel"].shape[1] >= frames]
    chosen = rng.choices(usable, weights=[it["mel"].shape[1] - frames + 1 for it in usable], k=batch)
    mels, audio = [], []
    for it in chosen:
        s = rng.randint(0, it["mel"].shape[1] - frames)
        mels.append(it["mel"][:, s:s + frames].float())
        audio.append(it["audio"][s * hop:(s + frames) * hop].float() / 32767.0)
    return torch.stack(mels), torch.stack(audio)


class VocoderTraining:
    """The generator, both discriminators, their optimizers and one training step."""

    def __init__(self, cfg: VocoderConfig, disc_width: int, lr: float, total_steps: int,
                 stft_weight: float = 1.0, fm_weight: float = 2.0, device="cpu"):
        self.cfg, self.disc_width, self.lr, self.total_steps = cfg, disc_width, lr, total_steps
        self.stft_weight, self.fm_weight = stft_weight, fm_weight
        self.generator = Vocoder(cfg).to(device)
        self.mpd = MultiPeriodDiscriminator(disc_width).to(device)
        self.mrd = MultiResolutionDiscriminator(disc_width).to(device)
        self.stft_loss = MultiResolutionSTFTLoss().to(device)
        self.opt_g = torch.optim.AdamW(self.generator.parameters(), lr=lr, betas=(0.8, 0.9))
        self.opt_d = torch.optim.AdamW(list(self.mpd.parameters()) + list(self.mrd.parameters()),
                                       lr=lr, betas=(0.8, 0.9))

    def modules(self) -> dict:
        return {"generator": self.generator, "mpd": self.mpd, "mrd": self.mrd, "opt_g": self.opt_g,
                "opt_d": self.opt_d}

    def checkpoint(self, step: int) -> dict:
        return {**{k: m.state_dict() for k, m in self.modules().items()}, "step": step,
                "config": self.cfg.to_json(), "disc_width": self.disc_width}

    def _discriminators_trainable(self, flag: bool) -> None:
        # The generator's backward pass needs gradients through the discriminators, not of their weights.
        for p in list(self.mpd.parameters()) + list(self.mrd.parameters()):
            p.requires_grad_(flag)

    def step(self, step: int, mel: torch.Tensor, audio: torch.Tensor, adversarial: bool) -> dict[str, float]:
        """Optimisation step number `step` on mel [B, 80, T] and its audio [B, T·hop]; returns the losses.
        The learning rate is a function of the step alone, so a resumed run needs no scheduler state."""
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = self.lr * lr_factor(step, self.total_steps)
        self.generator.train()
        fake = self.generator(mel)
        logs = {}
        if adversarial:
            real = [d(audio) for d in (self.mpd, self.mrd)]
            loss_d = sum(discriminator_loss([s for s, _ in r], [s for s, _ in d(fake.detach())])
                         for d, r in zip((self.mpd, self.mrd), real))
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            logs["disc"] = loss_d.item()
        loss_mel = mel_loss(fake, audio)
        loss_stft = self.stft_loss(fake, audio)
        loss_g = MEL_WEIGHT * loss_mel + self.stft_weight * loss_stft
        if adversarial:
            adv = fm = 0.0
            self._discriminators_trainable(False)
            for d, r in zip((self.mpd, self.mrd), real):
                gen = d(fake)
                adv = adv + generator_loss([s for s, _ in gen])
                # Real activations from before this step's discriminator update: one forward pass fewer.
                fm = fm + feature_loss([f for _, f in r], [f for _, f in gen])
            loss_g = loss_g + adv + self.fm_weight * fm
            logs.update(adv=float(adv), fm=float(fm))
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self._discriminators_trainable(True)
        self.opt_g.step()
        return {"mel": loss_mel.item(), "stft": loss_stft.item(), **logs}


@torch.no_grad()
def evaluate(generator: Vocoder, items: list[dict], device) -> tuple[float, list[torch.Tensor]]:
    """Mean mel L1 over whole held-out utterances, and their synthesised audio."""
    generator.eval()
    losses, outputs = [], []
    for it in items:
        fake = generator(it["mel"].float()[None].to(device))
        losses.append(mel_loss(fake, it["audio"].float()[None].to(device) / 32767.0).item())
        outputs.append(fake[0].cpu())
    return sum(losses) / max(len(losses), 1), outputs


def read_config(ckpt_path: Path, a) -> tuple[VocoderConfig, int]:
    """A resumed run keeps the architecture it was started with."""
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path, map_location="cpu")
        return VocoderConfig(**ckpt["config"]), int(ckpt["disc_width"])
    return VocoderConfig(dim=a.dim, intermediate=a.intermediate, layers=a.layers), a.disc_width


def run(a) -> None:
    device = setup(a.threads, a.device)
    out = Path(a.out)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    train, held = load_items(Path(a.corpus), "train"), load_items(Path(a.corpus), "eval")
    held = held[::max(1, len(held) // EVAL_UTTERANCES)][:EVAL_UTTERANCES]  # spread over sentences and emotions
    ckpt_path = out / "checkpoint.pt"
    cfg, disc_width = read_config(ckpt_path, a)
    t = VocoderTraining(cfg, disc_width, a.lr, a.steps, a.stft_weight, a.fm_weight, device)
    step = load_checkpoint(ckpt_path, t.modules(), device)
    n_params = sum(p.numel() for p in t.generator.parameters())
    print(f"train-vocoder: {len(train)} utterances, {n_params / 1e6:.2f} M parameters {cfg.to_json()}, "
          f"discriminators from step {a.adv_start}, resuming at step {step}", flush=True)
    rng, stopper, progress = random.Random(step), Stopper(), Progress("train-vocoder", a.steps, step)
    while step < a.steps and not stopper.stop:
        mel, audio = random_segments(train, a.batch, a.segment_frames, rng)
        losses = t.step(step, mel.to(device), audio.to(device), adversarial=step >= a.adv_start)
        step += 1
        progress.update(step, **losses)
        if step % a.save_every == 0:
            save_atomic(t.checkpoint(step), ckpt_path)
        if held and (step % a.eval_every == 0 or step == a.steps):
            loss, outputs = evaluate(t.generator, held, device)
            for it, wav in zip(held[:SAMPLE_UTTERANCES], outputs):
                write_wav(out / "samples" / f"{it['id']}-step{step}.wav", wav.numpy(), MelConfig.sampleRate)
            print(f"train-vocoder: step {step} held-out mel L1 {loss:.4f}", flush=True)
    if step % a.save_every:
        save_atomic(t.checkpoint(step), ckpt_path)
    if step < a.steps:
        print(f"train-vocoder: stopped at step {step}; run again to resume", flush=True)
    else:
        print(f"train-vocoder: done; export with export_vocoder('{ckpt_path}', 'vocoder.onnx')", flush=True)
