"""What the vocoder is trained against (training/train_vocoder.py): a multi-period
discriminator on the waveform and a multi-resolution one on magnitude spectrograms,
their hinge and feature-matching losses, and the spectral losses (mel L1,
multi-resolution STFT)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import weight_norm

from ..audio import MelConfig, log_mel


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
        """audio [B,L] → (scores [B,S], each layer's output [B,C,L',p])."""
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
        """audio [B,L] → one (scores, layer outputs) per sub-discriminator."""
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
        """audio [B,L] → (scores [B,S], each layer's output [B,C,frames,F'])."""
        x = magnitude(audio, self.n_fft, self.hop, self.window).transpose(1, 2)[:, None]
        return _conv_stack(self.convs, self.post, x)


class MultiResolutionDiscriminator(nn.Module):
    def __init__(self, width: int = 16, resolutions: tuple[tuple[int, int], ...] = ((512, 128), (1024, 256), (2048, 512))):
        super().__init__()
        self.discriminators = nn.ModuleList(ResolutionDiscriminator(n, h, width) for n, h in resolutions)

    def forward(self, audio):
        """audio [B,L] → one (scores, layer outputs) per sub-discriminator."""
        return [d(audio) for d in self.discriminators]


# ---------------------------------------------------------------- losses

def magnitude(audio: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor) -> torch.Tensor:
    """audio [B,L] → magnitude spectrogram [B,n_fft/2+1,frames]."""
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
        """fake, real audio [B,L] → scalar loss."""
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
