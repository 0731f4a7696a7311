"""Score estimators s_θ(x_t, μ, t, e) behind one contract.

Both predict the noise of x_t, not its score, on top of the best linear guess (see
`PriorPreconditioning`); the graph still outputs the score the contract asks for.

`unet2d` is the Grad-TTS U-Net (mel as a 1-channel image, dim 64, multipliers
1,2,4) with the emotion embedding entering like Grad-TTS's speaker embedding: an
extra input channel and nothing else. It is for GPUs. `dilated1d` is a 1-D gated
dilated residual network whose cost per frame is ~1 M multiply-adds, so that a
2-emotion mix at a few steps runs far faster than real time on 2 CPU cores.
"""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

from .diffusion import Schedule

# Root-mean-square error of the frame decoder's prior against the mel (log units), a
# little above where training ends (0.6–0.7): it only sets how fast the linear guess
# hands over from the noise (large t) to the network (small t).
PRIOR_ERROR = 0.8


class PriorPreconditioning(nn.Module):
    """Turns the network's noise prediction into the score of x_t.

    x_t = a·x₀ + (1 − a)·μ + σ_t·z with a = exp(−½∫β), σ_t² = 1 − a². With the mel's
    error against the prior, x₀ − μ, taken as Gaussian of variance e², the least-squares
    estimate of z from y = x_t − μ is y·σ_t/(a²e² + σ_t²): exactly z at t = 1, near 0 as
    t → 0. The network adds what that misses, so an untrained estimator already denoises
    the early steps, and the score is −ẑ/σ_t. (Grad-TTS lets its U-Net learn this
    identity; the small CPU estimator had learnt barely half of it after 5,000 steps,
    and its sampler diverged.)"""

    def __init__(self, schedule: Schedule, prior_error: float = PRIOR_ERROR):
        super().__init__()
        self.schedule, self.prior_error = schedule, prior_error

    def forward(self, noise, x, mu, t):
        """noise (the network's output), x, mu [B,80,T], t [B] → score [B,80,T]."""
        cum = self.schedule.cumulative(t)[:, None, None]
        a2 = torch.exp(-cum)
        var = 1.0 - a2
        std = torch.sqrt(var)
        z_hat = (x - mu) * std / (a2 * self.prior_error ** 2 + var) + noise
        return -z_hat / std


class TimeEmbedding(nn.Module):
    """Sinusoidal embedding of t ∈ [0,1], scaled by 1000 as in Grad-TTS."""

    def __init__(self, dim: int, scale: float = 1000.0):
        super().__init__()
        self.dim, self.scale = dim, scale

    def forward(self, t):
        """t [B] → [B,dim]."""
        half = self.dim // 2
        freq = torch.exp(torch.arange(half, device=t.device, dtype=torch.float32) * (-math.log(10000.0) / (half - 1)))
        arg = self.scale * t[:, None] * freq[None]
        return torch.cat([arg.sin(), arg.cos()], dim=-1)


class Dilated1D(nn.Module):
    frame_multiple = 1

    def __init__(self, embedding_dim: int, n_mels: int = 80, channels: int = 128, blocks: int = 8,
                 cond_dim: int = 256, schedule: Schedule = Schedule()):
        super().__init__()
        self.precondition = PriorPreconditioning(schedule)
        self.inp = nn.Conv1d(2 * n_mels, channels, 1)
        self.time = nn.Sequential(TimeEmbedding(128), nn.Linear(128, cond_dim), nn.SiLU(), nn.Linear(cond_dim, cond_dim))
        self.emotion = nn.Sequential(nn.Linear(embedding_dim, cond_dim), nn.SiLU(), nn.Linear(cond_dim, cond_dim))
        self.dilated = nn.ModuleList(nn.Conv1d(channels, 2 * channels, 3, padding=2 ** i, dilation=2 ** i)
                                     for i in range(blocks))
        self.cond = nn.ModuleList(nn.Linear(cond_dim, 2 * channels) for _ in range(blocks))
        self.res_skip = nn.ModuleList(nn.Conv1d(channels, 2 * channels, 1) for _ in range(blocks))
        self.out1 = nn.Conv1d(channels, channels, 1)
        self.noise = nn.Conv1d(channels, n_mels, 1)
        nn.init.zeros_(self.noise.weight)
        nn.init.zeros_(self.noise.bias)
        self.scale = 1.0 / math.sqrt(blocks)

    def forward(self, x, mu, mask, t, emotion):
        """x_t, mu [B,80,T], mask [B,1,T], t [B], emotion [B,E] → score [B,80,T], zero where masked."""
        c = F.silu(self.time(t) + self.emotion(emotion))
        h = self.inp(torch.cat([x, mu], dim=1)) * mask
        skip = torch.zeros_like(h)
        for conv, cond, rs in zip(self.dilated, self.cond, self.res_skip):
            a, b = (conv(h) + cond(c)[:, :, None]).chunk(2, dim=1)
            r, s = rs(torch.tanh(a) * torch.sigmoid(b)).chunk(2, dim=1)
            h = (h + r) * mask * 0.7071
            skip = skip + s
        noise = self.noise(F.silu(self.out1(F.silu(skip * self.scale))))
        return self.precondition(noise, x, mu, t) * mask


class Mish(nn.Module):
    def forward(self, x):
        return x * torch.tanh(F.softplus(x))


class Block(nn.Module):
    def __init__(self, dim, dim_out, groups=8):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(dim, dim_out, 3, padding=1), nn.GroupNorm(groups, dim_out), Mish())

    def forward(self, x, mask):
        """x [B,C,80',T'], mask [B,1,1,T'] → [B,C_out,80',T']."""
        return self.block(x * mask) * mask


class ResnetBlock(nn.Module):
    def __init__(self, dim, dim_out, time_dim, groups=8):
        super().__init__()
        self.mlp = nn.Sequential(Mish(), nn.Linear(time_dim, dim_out))
        self.block1, self.block2 = Block(dim, dim_out, groups), Block(dim_out, dim_out, groups)
        self.res = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x, mask, t):
        """x [B,C,80',T'], mask [B,1,1,T'], time embedding t [B,dim] → [B,C_out,80',T']."""
        h = self.block1(x, mask) + self.mlp(t)[:, :, None, None]
        return self.block2(h, mask) + self.res(x * mask)


class LinearAttention(nn.Module):
    def __init__(self, dim, heads=4, dim_head=32):
        super().__init__()
        self.heads, hidden = heads, heads * dim_head
        self.to_qkv = nn.Conv2d(dim, hidden * 3, 1, bias=False)
        self.to_out = nn.Conv2d(hidden, dim, 1)

    def forward(self, x):
        """x [B,C,H,W] → [B,C,H,W]."""
        b, _, h, w = x.shape
        q, k, v = self.to_qkv(x).reshape(b, 3, self.heads, -1, h * w).unbind(1)
        k = k.softmax(dim=-1)
        context = torch.einsum("bhdn,bhen->bhde", k, v)
        out = torch.einsum("bhde,bhdn->bhen", context, q).reshape(b, -1, h, w)
        return self.to_out(out)


class ReZeroAttention(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.attn, self.g = LinearAttention(dim), nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x + self.attn(x) * self.g


class UNet2D(nn.Module):
    frame_multiple = 4

    def __init__(self, embedding_dim: int, n_mels: int = 80, dim: int = 64, mults=(1, 2, 4),
                 schedule: Schedule = Schedule()):
        super().__init__()
        self.precondition = PriorPreconditioning(schedule)
        self.emotion = nn.Sequential(nn.Linear(embedding_dim, 4 * embedding_dim), Mish(),
                                     nn.Linear(4 * embedding_dim, n_mels))
        self.time = nn.Sequential(TimeEmbedding(dim), nn.Linear(dim, 4 * dim), Mish(), nn.Linear(4 * dim, dim))
        dims = [3, *(dim * m for m in mults)]
        pairs = list(zip(dims[:-1], dims[1:]))
        self.downs, self.ups = nn.ModuleList(), nn.ModuleList()
        for i, (d_in, d_out) in enumerate(pairs):
            last = i == len(pairs) - 1
            self.downs.append(nn.ModuleList([ResnetBlock(d_in, d_out, dim), ResnetBlock(d_out, d_out, dim),
                                             ReZeroAttention(d_out),
                                             nn.Identity() if last else nn.Conv2d(d_out, d_out, 3, 2, 1)]))
        mid = dims[-1]
        self.mid1, self.mid_attn, self.mid2 = ResnetBlock(mid, mid, dim), ReZeroAttention(mid), ResnetBlock(mid, mid, dim)
        for d_in, d_out in reversed(pairs[1:]):
            self.ups.append(nn.ModuleList([ResnetBlock(d_out * 2, d_in, dim), ResnetBlock(d_in, d_in, dim),
                                           ReZeroAttention(d_in), nn.ConvTranspose2d(d_in, d_in, 4, 2, 1)]))
        self.final = Block(dim, dim)
        self.final_conv = nn.Conv2d(dim, 1, 1)

    def forward(self, x, mu, mask, t, emotion):
        """x_t, mu [B,80,T], mask [B,1,T], t [B], emotion [B,E] → score [B,80,T], zero where
        masked; T a multiple of frame_multiple (two halvings of the mel axes)."""
        s = self.emotion(emotion)[:, :, None].expand(-1, -1, x.shape[-1])
        h = torch.stack([mu, x, s], dim=1)
        m = mask.unsqueeze(1)
        tt = self.time(t)
        masks, hiddens = [m], []
        for res1, res2, attn, down in self.downs:
            mk = masks[-1]
            h = attn(res2(res1(h, mk, tt), mk, tt))
            hiddens.append(h)
            h = down(h * mk)
            masks.append(mk[:, :, :, ::2])
        masks = masks[:-1]
        mk = masks[-1]
        h = self.mid2(self.mid_attn(self.mid1(h, mk, tt)), mk, tt)
        for res1, res2, attn, up in self.ups:
            mk = masks.pop()
            h = attn(res2(res1(torch.cat([h, hiddens.pop()], dim=1), mk, tt), mk, tt))
            h = up(h * mk)
        h = self.final(h, masks[-1])
        return self.precondition(self.final_conv(h)[:, 0], x, mu, t) * mask


PRESETS = {"dilated1d": Dilated1D, "unet2d": UNet2D}


def build_estimator(preset: str, embedding_dim: int, **kw) -> nn.Module:
    return PRESETS[preset](embedding_dim, **kw)
