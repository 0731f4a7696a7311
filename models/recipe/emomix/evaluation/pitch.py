"""F0 tracking with YIN (de Cheveigné & Kawahara, 2002) in numpy, vectorised over frames.

Only what `evaluate` needs: the F0 of voiced frames, to compare mean pitch across
emotions and intensities of one voice. Hand-written because Debian's Python has no
pitch tracker (no librosa, no praat bindings) and YIN is a page of numpy.
"""
from __future__ import annotations

import numpy as np

F_MIN, F_MAX = 80.0, 600.0


def frame_signal(x: np.ndarray, length: int, hop: int) -> np.ndarray:
    """[frames, length] views of x; the tail that does not fill a frame is dropped."""
    n = 1 + (len(x) - length) // hop if len(x) >= length else 0
    if n == 0:
        return np.zeros((0, length), dtype=x.dtype)
    return np.lib.stride_tricks.as_strided(x, shape=(n, length), strides=(x.strides[0] * hop, x.strides[0]),
                                           writeable=False)


def cumulative_mean_normalized_difference(frames: np.ndarray, window: int, tau_max: int) -> np.ndarray:
    """YIN steps 2–3 for frames of `window + tau_max` samples: d'(τ) for τ = 0…tau_max,
    with d(τ) = Σ_{j<window} (x_j − x_{j+τ})² computed from energies and one FFT correlation."""
    n_fft = 1 << int(np.ceil(np.log2(window + tau_max)))
    spectrum = np.fft.rfft(frames, n_fft, axis=1)
    head = np.fft.rfft(frames[:, :window], n_fft, axis=1)
    corr = np.fft.irfft(np.conj(head) * spectrum, n_fft, axis=1)[:, :tau_max + 1]
    squares = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames.astype(np.float64) ** 2, axis=1)], axis=1)
    energy_lag = squares[:, window:window + tau_max + 1] - squares[:, :tau_max + 1]
    diff = np.maximum(squares[:, window:window + 1] + energy_lag - 2.0 * corr, 0.0)
    diff[:, 0] = 0.0
    running = np.cumsum(diff[:, 1:], axis=1)
    taus = np.arange(1, tau_max + 1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = np.where(running > 0, diff[:, 1:] * taus / np.maximum(running, 1e-12), 1.0)
    return cmnd


def yin(audio: np.ndarray, sr: int, f_min: float = F_MIN, f_max: float = F_MAX, hop_s: float = 0.01,
        window_s: float = 0.03, threshold: float = 0.15, silence_db: float = -35.0) -> np.ndarray:
    """F0 in Hz per frame (hop `hop_s`), NaN where a frame is unvoiced.

    A frame is voiced when the normalised difference has a dip below `threshold` at a lag
    within [sr/f_max, sr/f_min] (YIN's absolute threshold: the first such dip wins, which
    avoids octave-low errors) and its RMS is within `silence_db` of the loudest frames (the
    95th percentile), so that quiet noise between words never counts."""
    x = np.asarray(audio, dtype=np.float64)
    tau_min, tau_max = max(2, int(np.floor(sr / f_max))), int(np.ceil(sr / f_min))
    window = max(int(round(window_s * sr)), tau_max)
    frames = frame_signal(x, window + tau_max, max(1, int(round(hop_s * sr))))
    if len(frames) == 0:
        return np.zeros(0)
    cmnd = cumulative_mean_normalized_difference(frames, window, tau_max)

    below = cmnd[:, tau_min:tau_max] < threshold
    has_dip = below.any(axis=1)
    tau = tau_min + np.argmax(below, axis=1)
    # Walk down to the bottom of the dip the threshold first entered.
    rows = np.arange(len(frames))
    for _ in range(tau_max):
        step = (tau + 1 < tau_max) & (cmnd[rows, np.minimum(tau + 1, tau_max)] < cmnd[rows, tau])
        if not step.any():
            break
        tau = tau + step
    # Parabolic interpolation of the minimum between neighbouring lags.
    left, mid, right = cmnd[rows, tau - 1], cmnd[rows, tau], cmnd[rows, np.minimum(tau + 1, tau_max)]
    denom = left - 2 * mid + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    period = tau + np.clip(shift, -1, 1)

    rms = np.sqrt(np.mean(frames[:, :window] ** 2, axis=1))
    loud = np.percentile(rms, 95)
    voiced = has_dip & (rms > loud * 10 ** (silence_db / 20)) & (rms > 0)
    return np.where(voiced, sr / period, np.nan)


def mean_f0(audio: np.ndarray, sr: int) -> float:
    """Mean F0 over voiced frames in Hz; NaN when no frame is voiced."""
    f0 = yin(audio, sr)
    f0 = f0[np.isfinite(f0)]
    return float(f0.mean()) if len(f0) else float("nan")
