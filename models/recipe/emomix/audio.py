"""Log-mel features exactly as CONTRACT.md defines them (HiFi-GAN / Grad-TTS convention)."""
from __future__ import annotations

import math
import wave
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class MelConfig:
    sampleRate: int = 22050
    nFft: int = 1024
    winLength: int = 1024
    hopLength: int = 256
    nMels: int = 80
    fMin: float = 0.0
    fMax: float = 8000.0
    logFloor: float = 1e-5
    window: str = "hann-periodic"
    center: bool = False
    padMode: str = "reflect"
    padding: int = 384
    melScale: str = "slaney"
    melNorm: str = "slaney"
    magnitudeEps: float = 1e-9

    def to_json(self) -> dict:
        return asdict(self)


def hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, f / f_sp)


def mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, math.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


@lru_cache(maxsize=8)
def mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """[n_mels, n_fft//2+1] Slaney-normalised triangular filters (librosa's defaults)."""
    fft_freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights.astype(np.float32)


def log_mel(audio: torch.Tensor, cfg: MelConfig = MelConfig()) -> torch.Tensor:
    """audio [B, L] float → log-mel [B, nMels, floor((L + 2·pad − nFft)/hop) + 1]."""
    if audio.dim() == 1:
        audio = audio[None]
    x = F.pad(audio[:, None], (cfg.padding, cfg.padding), mode=cfg.padMode)[:, 0]
    window = torch.hann_window(cfg.winLength, periodic=True, dtype=audio.dtype, device=audio.device)
    spec = torch.stft(x, cfg.nFft, hop_length=cfg.hopLength, win_length=cfg.winLength, window=window,
                      center=False, return_complex=True)
    mag = torch.sqrt(spec.real ** 2 + spec.imag ** 2 + cfg.magnitudeEps)
    basis = torch.from_numpy(mel_basis(cfg.sampleRate, cfg.nFft, cfg.nMels, cfg.fMin, cfg.fMax)).to(mag)
    return torch.log(torch.clamp(basis @ mag, min=cfg.logFloor))


def read_wav(path) -> tuple[np.ndarray, int]:
    """16-bit PCM WAV → float32 mono in [-1, 1)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        ch = w.getnchannels()
        if ch > 1:
            data = data.reshape(-1, ch).mean(axis=1)
        return data, w.getframerate()


def write_wav(path, audio: np.ndarray, sr: int) -> None:
    pcm = np.clip(np.round(np.asarray(audio, dtype=np.float64) * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
