"""The frame decoder: turns the encoder's per-phoneme μ, repeated over each phoneme's
frames, into a per-frame prior mean.

Grad-TTS leaves all within-phoneme detail (formant transitions, the F0 contour) to the
score estimator, which on two CPU cores never trains long enough to learn it: a
piecewise-constant μ is hard to understand even after diffusion. A small dilated
convolution stack over frames, told where each frame sits inside its phoneme, learns
those trajectories in a few thousand steps (FastSpeech's decoder does the same job), so
the diffusion starts from an intelligible prior and only has to restore texture.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .encoder import ChannelNorm

POSITION_CHANNELS = 2


def phone_positions(durations: torch.Tensor, n_frames: int) -> torch.Tensor:
    """durations [B,N] int → [B,2,T]: each frame's relative position inside its phoneme,
    (j + ½)/d, and ln d / 4 (the phoneme's length). Frames past the last phoneme are 0.
    CONTRACT.md ("Frame decoder") gives the same definition for the runtime."""
    b = durations.shape[0]
    out = torch.zeros(b, POSITION_CHANNELS, n_frames, device=durations.device)
    for i in range(b):
        d = durations[i][durations[i] > 0]
        total = int(d.sum())
        start = torch.repeat_interleave(torch.cumsum(d, 0) - d, d)
        length = torch.repeat_interleave(d, d).float()
        j = torch.arange(total, device=durations.device) - start
        out[i, 0, :total] = (j.float() + 0.5) / length
        out[i, 1, :total] = torch.log(length) / 4.0
    return out


class FrameDecoder(nn.Module):
    def __init__(self, embedding_dim: int, n_mels: int = 80, channels: int = 192, kernel: int = 5,
                 dilations: tuple[int, ...] = (1, 2, 4, 1, 2, 4), dropout: float = 0.05):
        super().__init__()
        self.inp = nn.Conv1d(n_mels + POSITION_CHANNELS, channels, 1)
        self.emotion = nn.Conv1d(embedding_dim, channels, 1)
        self.convs = nn.ModuleList(nn.Conv1d(channels, channels, kernel, padding=d * (kernel // 2), dilation=d)
                                   for d in dilations)
        self.norms = nn.ModuleList(ChannelNorm(channels) for _ in dilations)
        self.out = nn.Conv1d(channels, n_mels, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.drop = nn.Dropout(dropout)

    def forward(self, mu_phone, position, mask, emotion):
        """mu_phone [B,80,T], position [B,2,T], mask [B,1,T], emotion [B,E,T] (per-frame, so
        that an emotion ramp reaches the prior) → μ [B,80,T]. Starts as the identity."""
        h = (self.inp(torch.cat([mu_phone, position], dim=1)) + self.emotion(emotion)) * mask
        for conv, norm in zip(self.convs, self.norms):
            h = h + self.drop(F.gelu(norm(conv(h * mask))))
        return (mu_phone + self.out(h * mask)) * mask
