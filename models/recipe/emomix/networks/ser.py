"""Speech emotion recogniser. Its emotion embedding conditions the acoustic model (EmoMix).

The embedding is the recogniser's class posterior times one anchor per class (the mean
hidden feature of that class's training utterances), not the hidden feature itself. The
runtime mixes emotions by mixing their centroids linearly; the hidden tanh layer bends,
so that the midpoint of two emotions' centroids lay 1.3-2.2 from the nearest training
utterance (centroids are 6-9.5 apart) and was mostly classified as neutral. A posterior-weighted
anchor is linear in the classes: a half-happy, half-sad utterance lands where the
half-and-half mix of the centroids does.
"""
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
        # Set by train-ser once the classifier is trained (set_anchors).
        self.register_buffer("anchors", torch.zeros(n_classes, embedding_dim))

    def features(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mel [B,80,T] → (hidden feature [B,E] in (−1, 1), logits [B,K]). Pools over all T."""
        h = self.convs((mel + 5.0) / 2.5)
        stats = torch.cat([h.mean(dim=2), h.std(dim=2)], dim=1)
        f = torch.tanh(self.embed(stats))
        return f, self.classify(f)

    def forward(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """mel [B,80,T] → (embedding [B,E], logits [B,K])."""
        _, logits = self.features(mel)
        return torch.softmax(logits, dim=1) @ self.anchors, logits

    @torch.no_grad()
    def set_anchors(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """Each class's anchor: the mean hidden feature of its utterances ([N,E], [N])."""
        for k in range(self.anchors.shape[0]):
            self.anchors[k] = features[labels == k].mean(dim=0)
