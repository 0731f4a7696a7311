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
    """Windowed inverse real DFT + overlap-add as one ConvTranspose1d, so that the
    graph exports to ONNX opset 17 (torch 1.13 exports neither irfft nor fold).

    Input: real and imaginary parts [B, n_fft/2+1, T] of frames laid out as in
    CONTRACT.md (frame k covers samples [hop·k − pad, hop·k − pad + n_fft) with
    pad = (n_fft − hop)/2). Output: [B, T·hop]. Dividing by the overlap-added
    squared window makes analysis (periodic Hann) + synthesis the identity.
    """

    def __init__(self, n_fft: int, hop: int):
        super().__init__()
        if (n_fft - hop) % 2:
            raise ValueError("n_fft - hop must be even")
        self.n_fft, self.hop, self.pad = n_fft, hop, (n_fft - hop) // 2
        bins = n_fft // 2 + 1
        n = torch.arange(n_fft, dtype=torch.float64)
        k = torch.arange(bins, dtype=torch.float64)
        window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
        angle = 2 * math.pi * k[:, None] * n[None, :] / n_fft
        # Bins 1..N/2−1 stand for their conjugate twins too; the sine rows of bins 0
        # and N/2 vanish, so their imaginary parts are ignored as irfft does.
        scale = torch.full((bins, 1), 2.0 / n_fft, dtype=torch.float64)
        scale[0] = scale[-1] = 1.0 / n_fft
        kernel = torch.cat([scale * torch.cos(angle), -scale * torch.sin(angle)]) * window
        self.register_buffer("kernel", kernel[:, None, :].float())
        self.register_buffer("window_sq", (window ** 2)[None, None, :].float())

    def forward(self, real: torch.Tensor, imag: torch.Tensor) -> torch.Tensor:
        """real, imag [B,n_fft/2+1,T] → audio [B,T·hop]."""
        frames = torch.cat([real, imag], dim=1)
        audio = F.conv_transpose1d(frames, self.kernel, stride=self.hop)
        ones = torch.ones_like(frames[:1, :1, :])
        envelope = F.conv_transpose1d(ones, self.window_sq, stride=self.hop)
        # Trim before dividing: the envelope is zero at the very first sample.
        return audio[:, 0, self.pad:-self.pad] / envelope[:, 0, self.pad:-self.pad]


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
