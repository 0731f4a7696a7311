"""The acoustic model: text encoder + duration predictor + frame decoder + score
estimator, their losses (Grad-TTS's duration, prior and diffusion losses, plus the
prior loss of the frame decoder's per-frame μ; decoder.py says why it exists) and
inference as the runtime runs it."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .decoder import FrameDecoder, phone_positions
from .diffusion import MixPlan, Schedule, diffusion_loss, durations_from_log, expand, sample
from .encoder import TextEncoder, sequence_mask
from .estimators import build_estimator
from .mas import mas_durations


def alignment_path(durations: torch.Tensor, n_frames: int) -> torch.Tensor:
    """Hard monotonic path [B,N,T] from integer durations [B,N]."""
    ends = torch.cumsum(durations, dim=1)
    frames = torch.arange(n_frames, device=durations.device)[None, None, :]
    return ((frames < ends[:, :, None]) & (frames >= (ends - durations)[:, :, None])).float()


@dataclass
class Synthesis:
    """One utterance from `AcousticModel.synthesise`: the predicted log_durations [N], the
    durations [N] in frames (int64) and the mel [80,T], T = durations.sum()."""
    log_durations: np.ndarray
    durations: np.ndarray
    mel: np.ndarray


class AcousticModel(nn.Module):
    def __init__(self, n_symbols: int, embedding_dim: int, preset: str = "dilated1d", n_mels: int = 80,
                 encoder: dict | None = None, estimator: dict | None = None, decoder: dict | None = None,
                 schedule: Schedule = Schedule(), n_speakers: int = 0, speaker_dim: int = 0):
        """With n_speakers > 0, a table of speaker embeddings (speaker_dim each) conditions every
        part: each part's conditioning vector is the emotion embedding followed by the speaker's
        embedding (CONTRACT.md, "Speakers"). A mix of emotions with weights summing to 1 then
        leaves the speaker part whole, so the runtime mixes these vectors exactly as before."""
        super().__init__()
        self.speakers = nn.Embedding(n_speakers, speaker_dim) if n_speakers > 0 and speaker_dim > 0 else None
        if self.speakers is not None:
            nn.init.normal_(self.speakers.weight, 0.0, 0.5)
        cond = embedding_dim + (speaker_dim if self.speakers is not None else 0)
        self.condition_dim = cond
        self.encoder = TextEncoder(n_symbols, cond, n_mels, **(encoder or {}))
        self.decoder = FrameDecoder(cond, n_mels, **(decoder or {}))
        self.estimator = build_estimator(preset, cond, n_mels=n_mels, schedule=schedule, **(estimator or {}))
        self.schedule, self.n_mels = schedule, n_mels

    def condition(self, emotion: torch.Tensor, speaker: torch.Tensor | None = None) -> torch.Tensor:
        """emotion [B,E], speaker indices [B] → the conditioning vectors [B,E+S]."""
        if self.speakers is None:
            return emotion
        if speaker is None:
            raise ValueError("a multi-speaker model needs each utterance's speaker")
        return torch.cat([emotion, self.speakers(speaker)], dim=1)

    def losses(self, ids, id_lengths, durations, mel, mel_lengths, emotion, segment_frames: int, speaker=None):
        """ids [B,N] phoneme IDs, id_lengths [B], mel [B,80,T], mel_lengths [B], emotion [B,E]
        → the duration, prior, frame-prior and diffusion losses (scalars). durations [B,N]
        frames per phoneme, or None to find them by monotonic alignment search on the current μ
        (Grad-TTS's way, for corpora without timing); speaker [B] indices into the speaker
        table (multi-speaker models)."""
        emotion = self.condition(emotion, speaker)
        mu_x, log_w, x_mask = self.encoder(ids, id_lengths, emotion)
        if durations is None:
            durations = mas_durations(mu_x, mel, id_lengths, mel_lengths)
        y_mask = sequence_mask(mel_lengths, mel.shape[2]).unsqueeze(1).float()
        target = torch.log(durations.float().clamp(min=1)) * x_mask[:, 0]
        dur_loss = torch.sum((log_w - target) ** 2) / torch.sum(x_mask)
        path = alignment_path(durations.long(), mel.shape[2])
        mu_y = torch.bmm(mu_x, path)
        prior_loss = gaussian_nll(mel, mu_y, y_mask)
        # The decoder and the estimator learn on random fixed-size segments (Grad-TTS's out_size).
        position = phone_positions(durations.long(), mel.shape[2]).to(mel.device)
        mel_seg, mu_seg, pos_seg, mask_seg = random_segments([mel, mu_y, position, y_mask], mel_lengths,
                                                             segment_frames)
        frame_emotion = emotion[:, :, None].expand(-1, -1, mu_seg.shape[2])
        mu_frames = self.decoder(mu_seg, pos_seg, mask_seg, frame_emotion)
        frame_loss = gaussian_nll(mel_seg, mu_frames, mask_seg)
        diff_loss = diffusion_loss(self.estimator, mel_seg, mask_seg, mu_frames, emotion, self.schedule)
        return dur_loss, prior_loss, frame_loss, diff_loss

    @torch.no_grad()
    def synthesise(self, phonemes: list[int], rows: torch.Tensor, weights: np.ndarray, steps: int,
                   temperature: float, seed: int, solver: str = "ode", length_scale: float = 1.0) -> Synthesis:
        """One utterance as the runtime makes it (CONTRACT.md), from phoneme IDs [N] to a mel
        [80,T]; call eval() first. rows [K,C]: the conditioning vectors of the mix (each an
        emotion's centroid, followed by the speaker's embedding in a multi-speaker model);
        weights [K] float32, summing to 1. The encoder and the frame decoder take the weighted
        mean of the rows; the sampler mixes the rows' scores with the same weights on every frame,
        from the contract's noise for `seed`."""
        emotion = (torch.from_numpy(weights) @ rows)[None]
        mu, log_w, _ = self.encoder(torch.tensor([phonemes]), torch.tensor([len(phonemes)]), emotion)
        log_durations = log_w[0].numpy()
        durations = durations_from_log(log_durations, length_scale)
        n = int(durations.sum())
        mu_frames = self.decoder(torch.from_numpy(expand(mu[0].numpy(), durations))[None],
                                 phone_positions(torch.from_numpy(durations)[None], n), torch.ones(1, 1, n),
                                 emotion[:, :, None].expand(-1, -1, n))[0].numpy()
        plan = MixPlan(rows.numpy(), np.tile(weights[:, None], (1, n)))
        mel = sample(self.estimator, mu_frames, np.ones((1, n), dtype=np.float32), plan, steps=steps,
                     temperature=temperature, seed=seed, solver=solver, schedule=self.schedule)
        return Synthesis(log_durations, durations, mel)


def gaussian_nll(mel, mu, mask):
    """Grad-TTS's prior loss: the log-likelihood of the mel under N(μ, I), per mel bin."""
    return torch.sum(0.5 * ((mel - mu) ** 2 + math.log(2 * math.pi)) * mask) / (torch.sum(mask) * mel.shape[1])


def random_segments(tensors, lengths, frames: int):
    """The same random window of `frames` frames from every [B,C,T] tensor of the list."""
    frames = min(frames, tensors[0].shape[2])
    starts = [int(torch.randint(0, max(int(l) - frames, 0) + 1, ())) for l in lengths]
    return [torch.stack([x[i, :, s:s + frames] for i, s in enumerate(starts)]) for x in tensors]
