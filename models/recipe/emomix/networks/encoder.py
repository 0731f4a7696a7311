"""Text encoder and duration predictor (Grad-TTS), both conditioned on the
emotion embedding. μ is per phoneme; the runtime expands it by the durations."""
from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F


def sequence_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    n = int(lengths.max()) if max_len is None else max_len
    return torch.arange(n, device=lengths.device)[None, :] < lengths[:, None]


class ChannelNorm(nn.Module):
    """LayerNorm over channels of a [B,C,N] tensor."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x):
        """x [B,C,N] → [B,C,N]."""
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class SelfAttention(nn.Module):
    """Plain multi-head self-attention written out so that ONNX export is simple and exact."""

    def __init__(self, channels: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.qkv, self.out = heads, nn.Conv1d(channels, 3 * channels, 1), nn.Conv1d(channels, channels, 1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask):
        """x [B,C,N], mask [B,1,N] → [B,C,N]; padded positions get no attention."""
        b, c, n = x.shape
        q, k, v = self.qkv(x).view(b, 3, self.heads, c // self.heads, n).unbind(1)
        scores = torch.einsum("bhdn,bhdm->bhnm", q, k) / math.sqrt(c // self.heads)
        scores = scores.masked_fill(mask[:, :, None, :] == 0, -1e4)
        attn = self.drop(torch.softmax(scores, dim=-1))
        return self.out(torch.einsum("bhnm,bhdm->bhdn", attn, v).reshape(b, c, n))


class EncoderLayer(nn.Module):
    def __init__(self, channels: int, heads: int, ffn: int, kernel: int, dropout: float):
        super().__init__()
        self.attn, self.norm1 = SelfAttention(channels, heads, dropout), ChannelNorm(channels)
        self.ff1 = nn.Conv1d(channels, ffn, kernel, padding=kernel // 2)
        self.ff2 = nn.Conv1d(ffn, channels, kernel, padding=kernel // 2)
        self.norm2, self.drop = ChannelNorm(channels), nn.Dropout(dropout)

    def forward(self, x, mask):
        """x [B,C,N], mask [B,1,N] → [B,C,N], zero where masked."""
        x = self.norm1(x + self.drop(self.attn(x, mask)))
        y = self.ff2(self.drop(F.relu(self.ff1(x * mask))) * mask)
        return self.norm2(x + self.drop(y)) * mask


class DurationPredictor(nn.Module):
    def __init__(self, channels: int, hidden: int, kernel: int, dropout: float):
        super().__init__()
        self.conv1, self.norm1 = nn.Conv1d(channels, hidden, kernel, padding=kernel // 2), ChannelNorm(hidden)
        self.conv2, self.norm2 = nn.Conv1d(hidden, hidden, kernel, padding=kernel // 2), ChannelNorm(hidden)
        self.proj, self.drop = nn.Conv1d(hidden, 1, 1), nn.Dropout(dropout)

    def forward(self, x, mask):
        """x [B,C,N], mask [B,1,N] → log durations [B,N], zero where masked."""
        x = self.drop(self.norm1(F.relu(self.conv1(x * mask))))
        x = self.drop(self.norm2(F.relu(self.conv2(x * mask))))
        return (self.proj(x * mask) * mask)[:, 0]


class TextEncoder(nn.Module):
    def __init__(self, n_symbols: int, embedding_dim: int, n_mels: int = 80, channels: int = 192,
                 layers: int = 4, heads: int = 2, ffn: int = 768, kernel: int = 3, dropout: float = 0.1,
                 dp_hidden: int = 256):
        super().__init__()
        self.channels = channels
        self.embed = nn.Embedding(n_symbols, channels)
        nn.init.normal_(self.embed.weight, 0.0, channels ** -0.5)
        self.emotion = nn.Linear(embedding_dim, channels)
        self.prenet = nn.ModuleList(nn.Conv1d(channels, channels, 5, padding=2) for _ in range(3))
        self.prenet_norms = nn.ModuleList(ChannelNorm(channels) for _ in range(3))
        self.layers = nn.ModuleList(EncoderLayer(channels, heads, ffn, kernel, dropout) for _ in range(layers))
        self.proj_mu = nn.Conv1d(channels, n_mels, 1)
        self.dp_emotion = nn.Linear(embedding_dim, channels)
        self.duration = DurationPredictor(channels, dp_hidden, 3, dropout)
        self.drop = nn.Dropout(dropout)

    def positions(self, n: int, device) -> torch.Tensor:
        """Sinusoidal position encodings [1,C,n]."""
        pos = torch.arange(n, device=device, dtype=torch.float32)[:, None]
        freq = torch.exp(torch.arange(0, self.channels, 2, device=device, dtype=torch.float32)
                         * (-math.log(10000.0) / self.channels))
        return torch.cat([torch.sin(pos * freq), torch.cos(pos * freq)], dim=1).t()[None]

    def forward(self, phonemes, lengths, emotion):
        """phonemes [B,N] int, lengths [B], emotion [B,E] → mu [B,80,N], log_durations [B,N], mask [B,1,N]."""
        mask = sequence_mask(lengths, phonemes.shape[1]).unsqueeze(1).to(torch.float32)
        x = self.embed(phonemes).transpose(1, 2) * math.sqrt(self.channels)
        x = (x + self.emotion(emotion)[:, :, None]) * mask
        for conv, norm in zip(self.prenet, self.prenet_norms):
            x = x + self.drop(F.relu(norm(conv(x * mask))))
        x = (x + self.positions(x.shape[2], x.device)) * mask
        for layer in self.layers:
            x = layer(x, mask)
        mu = self.proj_mu(x) * mask
        dp_in = (x.detach() + self.dp_emotion(emotion)[:, :, None]) * mask
        return mu, self.duration(dp_in, mask), mask
