"""Emotion profiles for the Festival teacher voice.

Debian's Festival passes only the speaking rate (-r) on to hts_engine; -fm, -jf, -g,
-b and -a leave the waveform byte-identical (checked with md5sum), so pitch,
loudness and timbre are applied afterwards with sox, whose `pitch` effect keeps
the timing (and therefore Festival's segment end times) intact.
"""
from dataclasses import dataclass
import random

EMOTIONS = ("neutral", "happy", "sad", "angry", "surprise")


@dataclass(frozen=True)
class Profile:
    rate: float        # hts_engine -r (>1 is faster)
    pitch_cents: float  # sox pitch shift
    gain_db: float     # loudness relative to the peak-normalised neutral
    treble_db: float   # sox treble shelf at 3 kHz: brighter (>0) or darker (<0)
    bass_db: float     # sox bass shelf at 200 Hz


PROFILES = {
    "neutral": Profile(rate=1.00, pitch_cents=0, gain_db=-6, treble_db=0, bass_db=0),
    "happy": Profile(rate=1.12, pitch_cents=300, gain_db=-4, treble_db=3, bass_db=-1),
    "sad": Profile(rate=0.80, pitch_cents=-250, gain_db=-11, treble_db=-5, bass_db=1),
    "angry": Profile(rate=1.18, pitch_cents=-80, gain_db=-1, treble_db=6, bass_db=-3),
    "surprise": Profile(rate=0.95, pitch_cents=550, gain_db=-3, treble_db=2, bass_db=0),
}

# Spread of the per-utterance draw around a profile; chosen so that neighbouring
# classes overlap (real speech does) while class means stay well apart.
JITTER = Profile(rate=0.06, pitch_cents=90, gain_db=1.5, treble_db=1.5, bass_db=1.0)


def draw(emotion: str, rng: random.Random, intensity: float | None = None) -> dict:
    """Parameters for one utterance: the class profile scaled by a random intensity
    (0 = neutral, 1 = full profile) plus Gaussian jitter."""
    base, target = PROFILES["neutral"], PROFILES[emotion]
    a = rng.uniform(0.6, 1.15) if intensity is None else intensity
    if emotion == "neutral":
        a = 1.0
    out = {}
    for field in ("rate", "pitch_cents", "gain_db", "treble_db", "bass_db"):
        b, t, j = getattr(base, field), getattr(target, field), getattr(JITTER, field)
        out[field] = b + a * (t - b) + rng.gauss(0.0, j * 0.5)
    out["rate"] = min(max(out["rate"], 0.65), 1.45)
    out["intensity"] = a
    return out
