"""Monotonic alignment search (Grad-TTS, after Glow-TTS) for corpora without durations.

Each mel frame is scored under N(μ_i, I) of every phoneme i of the encoder; the
alignment is the monotonic path that visits every phoneme in order, at least one frame
each, and maximises the summed log-likelihood. The dynamic programme runs over frames
with every utterance and phoneme of the batch in one array operation per frame, so a
batch costs 2T small operations instead of B·N·T Python steps.
"""
from __future__ import annotations

import math

import numpy as np
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
    tensor [B,N,T] on log_p's device: frame t of utterance b belongs to exactly one phoneme,
    the phonemes follow in order, each gets at least one frame. Needs y_length ≥ x_length.

    The programme runs in NumPy on the host whatever the device: it is 2T tiny operations, each
    costing a few microseconds there against tens in torch (and a kernel launch on a GPU), while
    moving log_p (B·N·T floats, a few MB) to the host and the path back costs about a millisecond."""
    value = log_p.detach().float().cpu().numpy()
    xl, yl = x_lengths.cpu().numpy().astype(np.int64), y_lengths.cpu().numpy().astype(np.int64)
    b, n, t = value.shape
    valid = (np.arange(n)[None, :, None] < xl[:, None, None]) & (np.arange(t)[None, None, :] < yl[:, None, None])
    value = np.where(valid, value, np.float32(UNREACHABLE)).astype(np.float32)
    best = np.full((b, n), UNREACHABLE, dtype=np.float32)
    best[:, 0] = value[:, 0, 0]
    from_previous = np.zeros((b, n, t), dtype=bool)
    for j in range(1, t):
        moved = best[:, :-1] > best[:, 1:]
        from_previous[:, 1:, j] = moved
        best[:, 1:] = np.where(moved, best[:, :-1], best[:, 1:])
        best += value[:, :, j]
    path = np.zeros((b, n, t), dtype=np.float32)
    rows = np.arange(b)
    index = xl - 1
    for j in range(t - 1, -1, -1):
        active = j < yl
        path[rows[active], index[active], j] = 1.0
        index = index - (active & from_previous[rows, index, j] & (index > 0))
    return torch.from_numpy(path).to(log_p.device)


def mas_durations(mu: torch.Tensor, mel: torch.Tensor, x_lengths: torch.Tensor,
                  y_lengths: torch.Tensor) -> torch.Tensor:
    """Frames per phoneme [B,N] (0 past each utterance's phonemes) from the encoder's μ."""
    # In float32 even under autocast: the path compares sums over hundreds of frames.
    with torch.autocast(device_type=mu.device.type, enabled=False):
        path = maximum_path(log_likelihood(mu.detach(), mel), x_lengths, y_lengths)
    return path.sum(2).long()
