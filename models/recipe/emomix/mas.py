"""Monotonic alignment search (Grad-TTS, after Glow-TTS) for corpora without durations.

Each mel frame is scored under N(μ_i, I) of every phoneme i of the encoder; the
alignment is the monotonic path that visits every phoneme in order, at least one frame
each, and maximises the summed log-likelihood. The dynamic programme runs over frames
with every utterance and phoneme of the batch in one tensor operation per frame, so a
batch costs T small operations (on the model's device) instead of B·N·T Python steps.
"""
from __future__ import annotations

import math

import torch

# Stands for −∞ in the dynamic programme; finite so that sums of it stay comparable.
UNREACHABLE = -1e9


def log_likelihood(mu: torch.Tensor, mel: torch.Tensor) -> torch.Tensor:
    """mu [B,80,N], mel [B,80,T] → [B,N,T]: log N(mel_t; μ_i, I), summed over the mel bins."""
    mu, mel = mu.float(), mel.float()
    cross = torch.bmm(mu.transpose(1, 2), mel)
    return (cross - 0.5 * (mu ** 2).sum(1)[:, :, None] - 0.5 * (mel ** 2).sum(1)[:, None, :]
            - 0.5 * mu.shape[1] * math.log(2 * math.pi))


@torch.no_grad()
def maximum_path(log_p: torch.Tensor, x_lengths: torch.Tensor, y_lengths: torch.Tensor) -> torch.Tensor:
    """log_p [B,N,T], phoneme and frame counts [B] → the best monotonic path as a 0/1
    tensor [B,N,T]: frame t of utterance b belongs to exactly one phoneme, the phonemes
    follow in order, each gets at least one frame. Needs y_length ≥ x_length."""
    b, n, t = log_p.shape
    dev = log_p.device
    phones = torch.arange(n, device=dev)
    valid = (phones[None, :, None] < x_lengths[:, None, None]) & \
            (torch.arange(t, device=dev)[None, None, :] < y_lengths[:, None, None])
    value = log_p.float().masked_fill(~valid, UNREACHABLE)
    best = torch.full((b, n), UNREACHABLE, device=dev)
    best[:, 0] = value[:, 0, 0]
    from_previous = torch.zeros(b, n, t, dtype=torch.bool, device=dev)
    pad = torch.full((b, 1), UNREACHABLE, device=dev)
    for j in range(1, t):
        previous = torch.cat([pad, best[:, :-1]], dim=1)
        moved = previous > best
        from_previous[:, :, j] = moved
        best = torch.where(moved, previous, best) + value[:, :, j]
    path = torch.zeros(b, n, t, device=dev)
    rows = torch.arange(b, device=dev)
    index = (x_lengths - 1).long()
    for j in range(t - 1, -1, -1):
        active = j < y_lengths
        path[rows[active], index[active], j] = 1.0
        index = index - (active & from_previous[rows, index, j] & (index > 0)).long()
    return path


def mas_durations(mu: torch.Tensor, mel: torch.Tensor, x_lengths: torch.Tensor,
                  y_lengths: torch.Tensor) -> torch.Tensor:
    """Frames per phoneme [B,N] (0 past each utterance's phonemes) from the encoder's μ."""
    # In float32 even under autocast: the path compares sums over hundreds of frames.
    with torch.autocast(device_type=mu.device.type, enabled=False):
        path = maximum_path(log_likelihood(mu.detach(), mel), x_lengths, y_lengths)
    return path.sum(2).long()
