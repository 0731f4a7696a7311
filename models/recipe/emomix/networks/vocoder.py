"""Vocos-style vocoder: a ConvNeXt backbone at frame rate predicts the STFT of the
waveform, and a fixed inverse STFT turns it into audio. One network at 86 frames/s
and no upsampling convolutions make it the cheapest good vocoder on CPU.
The discriminators and losses that train it are in discriminators.py.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class VocoderConfig:
    n_mels: int = 80
    dim: int = 384
    intermediate: int = 1152
    layers: int = 8
    kernel: int = 7
    n_fft: int = 1024
    hop: int = 256

    def to_json(self) -> dict:
        return asdict(self)


class InverseSTFT(nn.Module):
    """Windowed inverse real DFT + overlap-add in matrix products, so that the graph exports
    to ONNX opset 17 (torch 1.13 exports neither irfft nor fold).

    Input: real and imaginary parts [B, n_fft/2+1, T] of frames laid out as in
    CONTRACT.md (frame k covers samples [hop·k − pad, hop·k − pad + n_fft) with
    pad = (n_fft − hop)/2). Output: [B, T·hop]. Dividing by the overlap-added
    squared window makes analysis (periodic Hann) + synthesis the identity.

    The DFT is folded twice by its symmetries instead of multiplied out as one dense
    [n_fft, n_fft + 2] product (a ConvTranspose1d until December 2026): sample N − n shares
    sample n's cosine and sine sums with the sine's sign flipped, and sample N/2 − n shares
    them with the odd bins' signs flipped. Four products of [N/4 + 1, N/4 + 1] then give
    every sample, a quarter of the multiplications: on the CPU the inverse STFT went from a
    third of the vocoder's time to a tenth (docs/benchmarks.md).
    """

    def __init__(self, n_fft: int, hop: int):
        super().__init__()
        if (n_fft - hop) % 2 or n_fft % hop or n_fft % 4:
            raise ValueError("n_fft must be a multiple of 4 and of hop, and n_fft - hop even")
        self.n_fft, self.hop, self.pad, self.overlap = n_fft, hop, (n_fft - hop) // 2, n_fft // hop
        quarter = n_fft // 4
        n = torch.arange(quarter + 1, dtype=torch.float64)[:, None]
        for parity, bins in (("even", torch.arange(0, n_fft // 2 + 1, 2)), ("odd", torch.arange(1, n_fft // 2, 2))):
            k = bins.to(torch.float64)[None, :]
            # Bins 1..N/2−1 stand for their conjugate twins too; the sine rows of bins 0
            # and N/2 vanish, so their imaginary parts are ignored as irfft does.
            scale = torch.where((k == 0) | (k == n_fft // 2), 1.0 / n_fft, 2.0 / n_fft)
            angle = 2 * math.pi * n * k / n_fft
            self.register_buffer(f"cos_{parity}", (scale * torch.cos(angle)).float())
            self.register_buffer(f"sin_{parity}", (scale * torch.sin(angle)).float())
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
        self.register_buffer("window", window[None, :, None].float())
        self.register_buffer("window_sq", (window ** 2).reshape(self.overlap, hop)[None, :, :, None].float())

    def _overlap_add(self, frames: torch.Tensor) -> torch.Tensor:
        """frames [B, n_fft/hop, hop, T] (each frame cut into hops) → [B, (T + n_fft/hop − 1)·hop]."""
        last = self.overlap - 1
        out = sum(F.pad(frames[:, r], (r, last - r)) for r in range(self.overlap))
        return out.transpose(1, 2).reshape(frames.shape[0], -1)

    def forward(self, real: torch.Tensor, imag: torch.Tensor) -> torch.Tensor:
        """real, imag [B,n_fft/2+1,T] → audio [B,T·hop]."""
        quarter = self.n_fft // 4
        # Cosine and sine sums over even and odd bins, for samples 0..N/4: [B, N/4+1, T] each.
        cos_even, cos_odd = torch.matmul(self.cos_even, real[:, 0::2]), torch.matmul(self.cos_odd, real[:, 1::2])
        sin_even, sin_odd = torch.matmul(self.sin_even, imag[:, 0::2]), torch.matmul(self.sin_odd, imag[:, 1::2])
        # Samples 0..N/2: the sums at n and at N/2 − n.
        cos = torch.cat([(cos_even + cos_odd)[:, :quarter], torch.flip(cos_even - cos_odd, [1])], dim=1)
        sin = torch.cat([(sin_even + sin_odd)[:, :quarter], torch.flip(sin_odd - sin_even, [1])], dim=1)
        # Samples 0..N−1: n from the difference, N − n from the sum.
        frames = torch.cat([cos - sin, torch.flip((cos + sin)[:, 1:2 * quarter], [1])], dim=1) * self.window
        batch, count = frames.shape[0], frames.shape[2]
        audio = self._overlap_add(frames.reshape(batch, self.overlap, self.hop, count))
        envelope = self._overlap_add(self.window_sq.expand(1, self.overlap, self.hop, count))
        # Trim before dividing: the envelope is zero at the very first sample.
        return audio[:, self.pad:-self.pad] / envelope[:, self.pad:-self.pad]


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int, intermediate: int, kernel: int, layer_scale: float):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pw1 = nn.Linear(dim, intermediate)
        self.pw2 = nn.Linear(intermediate, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B,C,T] → [B,C,T]."""
        y = self.dwconv(x).transpose(1, 2)
        y = self.pw2(F.gelu(self.pw1(self.norm(y))))
        return x + (self.gamma * y).transpose(1, 2)


class Vocoder(nn.Module):
    """log-mel [B, n_mels, T] → audio [B, T·hop]."""

    def __init__(self, cfg: VocoderConfig = VocoderConfig()):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Conv1d(cfg.n_mels, cfg.dim, cfg.kernel, padding=cfg.kernel // 2)
        self.norm_in = nn.LayerNorm(cfg.dim, eps=1e-6)
        self.blocks = nn.ModuleList(ConvNeXtBlock(cfg.dim, cfg.intermediate, cfg.kernel, 1.0 / cfg.layers)
                                    for _ in range(cfg.layers))
        self.norm_out = nn.LayerNorm(cfg.dim, eps=1e-6)
        self.head = nn.Linear(cfg.dim, cfg.n_fft + 2)
        self.istft = InverseSTFT(cfg.n_fft, cfg.hop)
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Conv1d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """mel [B,n_mels,T] → audio [B,T·hop]."""
        x = self.norm_in(self.embed(mel).transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        log_mag, phase = self.head(self.norm_out(x.transpose(1, 2))).transpose(1, 2).chunk(2, dim=1)
        # The clip keeps exp from overflowing early in training; 1e2 is far above any real bin.
        # The lower bound changes nothing but spares torch 1.13's exporter a None operand.
        mag = torch.exp(log_mag).clamp(0.0, 1e2)
        return self.istft(mag * torch.cos(phase), mag * torch.sin(phase))
