"""Speech emotion recogniser. Its pooled penultimate activation is the emotion
embedding that conditions the acoustic model (EmoMix)."""
from __future__ import annotations

import torch
from torch import nn


class SER(nn.Module):
    def __init__(self, n_mels: int = 80, channels: int = 128, embedding_dim: int = 64, n_classes: int = 5):
        super().__init__()
        layers, c_in = [], n_mels
        for dilation in (1, 2, 4, 8):
            layers += [nn.Conv1d(c_in, channels, 5, padding=2 * dilation, dilation=dilation),
                       nn.BatchNorm1d(channels), nn.ReLU()]
            c_in = channels
        self.convs = nn.Sequential(*layers)
        self.embed = nn.Linear(2 * channels, embedding_dim)
        self.classify = nn.Linear(embedding_dim, n_classes)

    def forward(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mel [B,80,T] → (embedding [B,E] in (−1, 1), logits [B,K]). Pools over all T."""
        h = self.convs((mel + 5.0) / 2.5)
        stats = torch.cat([h.mean(dim=2), h.std(dim=2)], dim=1)
        e = torch.tanh(self.embed(stats))
        return e, self.classify(e)
