import math

import numpy as np
import torch

from emomix.audio import MelConfig, hz_to_mel, log_mel, mel_basis, mel_to_hz
from emomix.data.align import align, ensure_min_one, frame_durations, splice_unwritten_pauses
from emomix.rng import Mulberry32


def test_mel_frame_count_and_range():
    cfg = MelConfig()
    for n in (400, 1000, 22050):  # reflect padding needs more than 384 samples
        mel = log_mel(torch.zeros(1, n), cfg)
        assert mel.shape == (1, 80, (n + 2 * cfg.padding - cfg.nFft) // cfg.hopLength + 1)
    assert torch.allclose(log_mel(torch.zeros(1, 2048)), torch.tensor(math.log(1e-5)), atol=0.2)


def test_slaney_scale_round_trips_and_is_linear_below_1khz():
    f = np.array([0.0, 200.0, 999.0, 1000.0, 4000.0, 8000.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f, rtol=1e-9, atol=1e-9)
    assert hz_to_mel(np.array([600.0]))[0] == 9.0


def test_mel_filters_cover_the_band_and_peak_where_expected():
    basis = mel_basis(22050, 1024, 80, 0.0, 8000.0)
    assert basis.shape == (80, 513) and np.all(basis >= 0)
    bins = np.arange(513) * 22050 / 1024
    assert np.all(basis[:, bins > 8000 + 22050 / 1024].sum(0) == 0)
    assert basis[0].argmax() < basis[40].argmax() < basis[79].argmax()


def test_sine_energy_lands_in_its_band():
    sr, f0 = 22050, 1000.0
    t = torch.arange(sr, dtype=torch.float32) / sr
    mel = log_mel(0.5 * torch.sin(2 * math.pi * f0 * t)[None])[0]
    peak = int(mel[:, 10:-10].mean(1).argmax())
    centres = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(8000.0), 82))[1:-1]
    assert abs(centres[peak] - f0) < 60


def test_rng_is_seeded_and_normal():
    a, b = Mulberry32(7), Mulberry32(7)
    assert [a.next_u32() for _ in range(5)] == [b.next_u32() for _ in range(5)]
    z = Mulberry32(3).normal((20000,))
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03
    assert Mulberry32(3).normal((3,))[2] == Mulberry32(3).normal((4,))[2]


def test_alignment_maps_pauses_to_punctuation_and_absorbs_mismatches():
    symbols = ["HH", "AH0", "L", "OW1", ",", "W", "ER1", "L", "D", "."]
    segments = ["pau", "hh", "ax", "l", "ow", "pau", "w", "er", "l", "d", "pau"]
    owner = align(symbols, segments)
    assert owner[5] == 4 and owner[-1] == 9 and owner[1] == 0
    # A phone Festival pronounced differently still maps one to one.
    assert align(["T", "AH0", "M", "EY1", "T", "OW2", "."], ["t", "ax", "m", "aa", "t", "ow", "pau"])[3] == 3


def test_frame_durations_sum_to_the_frames_and_are_positive():
    symbols = ["HH", "AH0", "L", "OW1", ",", "DH", "EH1", "R", "?"]
    segs = [("pau", 0.165), ("hh", 0.255), ("ax", 0.285), ("l", 0.335), ("ow", 0.43), ("dh", 0.49),
            ("eh", 0.545), ("r", 0.61), ("pau", 0.9)]
    n = round((0.9 - 0.165) * 22050 / 256)
    d = frame_durations(symbols, segs, 0.165, 0.9, 22050, 256, n)
    assert sum(d) == n and min(d) >= 1 and d[-1] > 20
    assert ensure_min_one([0, 5, 0, 3]) == [1, 3, 1, 3]


def test_pauses_the_text_does_not_write_are_cut_and_the_durations_follow_the_joined_audio():
    # "twelve dollars (pau) and fifty cents." : Festival paused where the text has no comma.
    symbols = ["D", "AA1", "L", "ER0", "Z", "AH0", "N", "D", "S", "EH1", "N", "T", "S", "."]
    segs = [("pau", 0.1), ("d", 0.15), ("aa", 0.25), ("l", 0.3), ("er", 0.4), ("z", 0.5), ("pau", 0.65),
            ("ae", 0.75), ("n", 0.8), ("d", 0.85), ("s", 0.95), ("eh", 1.05), ("n", 1.1), ("t", 1.15),
            ("s", 1.25), ("pau", 1.3)]
    splice = splice_unwritten_pauses(symbols, segs, 0.1, 1.3)
    assert splice.spans == [(0.1, 0.5), (0.65, 1.3)]
    assert abs(splice.seconds - 1.05) < 1e-9
    assert ("pau", 0.65) not in splice.segments and len(splice.segments) == len(segs) - 1
    assert abs(dict(enumerate(splice.segments))[6][1] - 0.6) < 1e-9  # "ae" now ends 0.15 s earlier
    n = round(splice.seconds * 22050 / 256)
    cut = frame_durations(symbols, splice.segments, 0.1, 0.1 + splice.seconds, 22050, 256, n)
    kept = frame_durations(symbols, segs, 0.1, 1.3, 22050, 256, round(1.2 * 22050 / 256))
    # The pause no longer lengthens the "Z" before it; the other phones keep their frames.
    assert abs(cut[4] - 0.1 * 22050 / 256) <= 1 and kept[4] > 2 * cut[4]
    assert sum(cut) == n and all(abs(a - b) <= 1 for a, b in zip(cut[5:], kept[5:]))  # rounding moves a frame


def test_a_pause_at_punctuation_is_kept():
    symbols = ["HH", "AH0", "L", "OW1", ",", "W", "ER1", "L", "D", "."]
    segs = [("pau", 0.1), ("hh", 0.15), ("ax", 0.2), ("l", 0.25), ("ow", 0.35), ("pau", 0.6), ("w", 0.65),
            ("er", 0.75), ("l", 0.8), ("d", 0.85), ("pau", 0.9)]
    splice = splice_unwritten_pauses(symbols, segs, 0.1, 0.9)
    assert splice.spans == [(0.1, 0.9)] and splice.segments == segs
