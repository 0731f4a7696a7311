"""Vocos-style vocoder: a ConvNeXt backbone at frame rate predicts the STFT of the
waveform, and a fixed inverse STFT turns it into audio. One network at 86 frames/s
and no upsampling convolutions make it the cheapest good vocoder on CPU.

Also here: the discriminators (multi-period on the waveform, multi-resolution on
magnitude spectrograms) and the losses used to train it (train_vocoder.py).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import weight_norm

from .audio import MelConfig, log_mel


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

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, T]
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
        x = self.norm_in(self.embed(mel).transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        log_mag, phase = self.head(self.norm_out(x.transpose(1, 2))).transpose(1, 2).chunk(2, dim=1)
        # The clip keeps exp from overflowing early in training; 1e2 is far above any real bin.
        # The lower bound changes nothing but spares torch 1.13's exporter a None operand.
        mag = torch.exp(log_mag).clamp(0.0, 1e2)
        return self.istft(mag * torch.cos(phase), mag * torch.sin(phase))


# ---------------------------------------------------------------- discriminators

def _conv_stack(convs: nn.ModuleList, post: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Scores and every layer's output: the feature-matching loss compares the latter."""
    fmap = []
    for conv in convs:
        x = F.leaky_relu(conv(x), 0.1)
        fmap.append(x)
    x = post(x)
    fmap.append(x)
    return x.flatten(1), fmap


class PeriodDiscriminator(nn.Module):
    """HiFi-GAN's: the waveform folded into [T/p, p] and convolved along time."""

    def __init__(self, period: int, channels: tuple[int, ...]):
        super().__init__()
        self.period = period
        chans = (1,) + channels
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv2d(chans[i], chans[i + 1], (5, 1), (3 if i < len(channels) - 1 else 1, 1),
                                  padding=(2, 0)))
            for i in range(len(channels)))
        self.post = weight_norm(nn.Conv2d(channels[-1], 1, (3, 1), padding=(1, 0)))

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        b, n = audio.shape
        if n % self.period:
            audio = F.pad(audio[:, None], (0, self.period - n % self.period), mode="reflect")[:, 0]
        x = audio.view(b, 1, -1, self.period)
        return _conv_stack(self.convs, self.post, x)


class MultiPeriodDiscriminator(nn.Module):
    def __init__(self, width: int = 16, periods: tuple[int, ...] = (2, 3, 5, 7, 11)):
        super().__init__()
        channels = (width, 4 * width, 8 * width, 16 * width, 16 * width)
        self.discriminators = nn.ModuleList(PeriodDiscriminator(p, channels) for p in periods)

    def forward(self, audio):
        return [d(audio) for d in self.discriminators]


class ResolutionDiscriminator(nn.Module):
    """UnivNet's, striding in frequency from the first layer to halve its cost on CPU:
    2-D convolutions over a magnitude spectrogram [T, F]."""

    def __init__(self, n_fft: int, hop: int, width: int):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.convs = nn.ModuleList([
            weight_norm(nn.Conv2d(1, width, (3, 9), stride=(1, 2), padding=(1, 4))),
            weight_norm(nn.Conv2d(width, width, (3, 9), stride=(1, 2), padding=(1, 4))),
            weight_norm(nn.Conv2d(width, width, (3, 9), stride=(1, 2), padding=(1, 4))),
            weight_norm(nn.Conv2d(width, width, (3, 3), padding=(1, 1))),
        ])
        self.post = weight_norm(nn.Conv2d(width, 1, (3, 3), padding=(1, 1)))

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x = magnitude(audio, self.n_fft, self.hop, self.window).transpose(1, 2)[:, None]
        return _conv_stack(self.convs, self.post, x)


class MultiResolutionDiscriminator(nn.Module):
    def __init__(self, width: int = 16, resolutions: tuple[tuple[int, int], ...] = ((512, 128), (1024, 256), (2048, 512))):
        super().__init__()
        self.discriminators = nn.ModuleList(ResolutionDiscriminator(n, h, width) for n, h in resolutions)

    def forward(self, audio):
        return [d(audio) for d in self.discriminators]


# ---------------------------------------------------------------- losses

def magnitude(audio: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor) -> torch.Tensor:
    spec = torch.stft(audio, n_fft, hop_length=hop, window=window, center=True, return_complex=True)
    return torch.sqrt(spec.real ** 2 + spec.imag ** 2 + 1e-9)


def mel_loss(fake: torch.Tensor, real: torch.Tensor, cfg: MelConfig = MelConfig()) -> torch.Tensor:
    """L1 between contract log-mels of the two waveforms [B, L]."""
    return F.l1_loss(log_mel(fake, cfg), log_mel(real, cfg))


class MultiResolutionSTFTLoss(nn.Module):
    """Spectral convergence + log-magnitude L1, averaged over resolutions (Parallel WaveGAN)."""

    def __init__(self, resolutions: tuple[tuple[int, int], ...] = ((512, 128), (1024, 256), (2048, 512))):
        super().__init__()
        self.resolutions = resolutions
        for n, _ in resolutions:
            self.register_buffer(f"window{n}", torch.hann_window(n), persistent=False)

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        total = fake.new_zeros(())
        for n, h in self.resolutions:
            window = getattr(self, f"window{n}")
            mf, mr = magnitude(fake, n, h, window), magnitude(real, n, h, window)
            total = total + torch.norm(mr - mf) / torch.norm(mr) + F.l1_loss(torch.log(mf), torch.log(mr))
        return total / len(self.resolutions)


def discriminator_loss(real_scores: list[torch.Tensor], fake_scores: list[torch.Tensor]) -> torch.Tensor:
    """Hinge loss, averaged over sub-discriminators."""
    total = sum(torch.mean(F.relu(1 - r)) + torch.mean(F.relu(1 + f)) for r, f in zip(real_scores, fake_scores))
    return total / len(real_scores)


def generator_loss(fake_scores: list[torch.Tensor]) -> torch.Tensor:
    return sum(torch.mean(F.relu(1 - f)) for f in fake_scores) / len(fake_scores)


def feature_loss(real_fmaps: list[list[torch.Tensor]], fake_fmaps: list[list[torch.Tensor]]) -> torch.Tensor:
    """L1 between discriminator activations, summed over layers, averaged over sub-discriminators."""
    total = sum(torch.mean(torch.abs(r.detach() - f)) for rs, fs in zip(real_fmaps, fake_fmaps)
                for r, f in zip(rs, fs))
    return total / len(real_fmaps)
