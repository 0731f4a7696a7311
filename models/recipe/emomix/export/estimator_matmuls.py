"""The dilated1d estimator rewritten for export as matrix products over channels-last frames.

The same function as `Dilated1D.forward`, with the same weights, but every convolution
becomes a MatMul: a 1×1 convolution is a product over channels, and a kernel-3 convolution
of dilation d is one product of the frame with its neighbours d frames either side,
side by side ([B, T, 3C] @ [3C, 2C]). onnxruntime runs the float graph as fast as the
convolutional one, and scripts/quantize-int8.py can then run the products in int8
(onnxruntime's CPU ConvInteger, the only int8 convolution, was five times slower than
its float Conv; its int8 MatMul is about twice as fast as float: docs/benchmarks.md).
The graph's inputs and outputs are those of the contract (CONTRACT.md), unchanged.
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from ..networks.estimators import Dilated1D


def as_matrix(conv: nn.Conv1d) -> torch.Tensor:
    """[out, in, k] → [k·in, out]: row block j multiplies the input shifted by (j − k//2)·dilation."""
    out_ch, in_ch, k = conv.weight.shape
    return conv.weight.permute(2, 1, 0).reshape(k * in_ch, out_ch)


class Dilated1DMatMuls(nn.Module):
    def __init__(self, estimator: Dilated1D):
        super().__init__()
        self.e = estimator

    def forward(self, x, mu, mask, t, emotion):
        """x_t, mu [B,80,T], mask [B,1,T], t [B], emotion [B,E] → score [B,80,T], zero where masked."""
        e = self.e
        c = F.silu(e.time(t) + e.emotion(emotion))
        frames_mask = mask.transpose(1, 2)                                    # [B,T,1]
        h = (torch.cat([x, mu], dim=1).transpose(1, 2) @ as_matrix(e.inp) + e.inp.bias) * frames_mask
        skip = torch.zeros_like(h)
        frames = h.shape[1]
        for conv, cond, rs in zip(e.dilated, e.cond, e.res_skip):
            d = conv.dilation[0]
            padded = F.pad(h, (0, 0, d, d))
            around = torch.cat([padded[:, :frames], padded[:, d:d + frames], padded[:, 2 * d:2 * d + frames]], dim=2)
            a, b = (around @ as_matrix(conv) + conv.bias + cond(c)[:, None, :]).chunk(2, dim=2)
            r, s = ((torch.tanh(a) * torch.sigmoid(b)) @ as_matrix(rs) + rs.bias).chunk(2, dim=2)
            h = (h + r) * frames_mask * 0.7071
            skip = skip + s
        hidden = F.silu(F.silu(skip * e.scale) @ as_matrix(e.out1) + e.out1.bias)
        noise = (hidden @ as_matrix(e.noise) + e.noise.bias).transpose(1, 2)
        return e.precondition(noise, x, mu, t) * mask
