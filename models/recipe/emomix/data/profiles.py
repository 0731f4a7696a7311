"""Emotion profiles for the Festival teacher voice.

Debian's Festival passes only the speaking rate (-r) on to hts_engine; -fm, -jf, -g,
-b and -a leave the waveform byte-identical (checked with md5sum), so pitch,
loudness and timbre are applied afterwards with sox, whose `pitch` effect keeps
the timing (and therefore Festival's segment end times) intact.

Rate, pitch and loudness are shared cues, and for opposite emotions they cancel: a
half-happy, half-sad voice has neutral's rate and pitch. So each of happy, sad and
angry also has a timbre cue of its own, one equaliser band no other emotion moves
(surprise's own cue is its pitch, far above happy's); a blend then carries part of
each emotion's band and can be told from neutral and from a third emotion.
"""
from dataclasses import dataclass, fields
import random

EMOTIONS = ("neutral", "happy", "sad", "angry", "surprise")
NEUTRAL = EMOTIONS[0]


@dataclass(frozen=True)
class Profile:
    rate: float = 1.0          # hts_engine -r (>1 is faster)
    pitch_cents: float = 0.0   # sox pitch shift
    gain_db: float = -6.0      # loudness relative to the peak-normalised utterance
    bright_db: float = 0.0     # treble shelf at 3 kHz: happy's own cue
    chest_db: float = 0.0      # band at 400 Hz (1.5 octaves): sad's dark, chesty voice
    press_db: float = 0.0      # band at 1.6 kHz (1 octave): angry's pressed voice


PROFILES = {
    "neutral": Profile(),
    "happy": Profile(rate=1.12, pitch_cents=300, gain_db=-4, bright_db=6),
    "sad": Profile(rate=0.80, pitch_cents=-250, gain_db=-11, chest_db=8),
    "angry": Profile(rate=1.18, pitch_cents=-80, gain_db=-1, press_db=8),
    "surprise": Profile(rate=0.95, pitch_cents=550, gain_db=-3),
}

# Spread of the per-utterance draw around a profile (half of it is the draw's standard
# deviation); chosen so that neighbouring classes overlap (real speech does) while class
# means stay well apart.
JITTER = Profile(rate=0.06, pitch_cents=90, gain_db=1.5, bright_db=1.5, chest_db=1.5, press_db=1.5)

TYPICAL_INTENSITY = (0.6, 1.15)


def draw(mix: dict[str, float], rng: random.Random, intensity: float | None = None) -> dict:
    """Parameters for one utterance: the mix's profile (the weighted mean of its emotions'
    profiles) scaled by an intensity (0 = neutral, 1 = the full profile; drawn from the
    typical range unless given) plus Gaussian jitter. A neutral utterance has intensity 1."""
    a = rng.uniform(*TYPICAL_INTENSITY) if intensity is None else intensity
    if set(mix) == {NEUTRAL}:
        a = 1.0
    base = PROFILES[NEUTRAL]
    out = {}
    for f in fields(Profile):
        b = getattr(base, f.name)
        target = sum(w * getattr(PROFILES[e], f.name) for e, w in mix.items())
        out[f.name] = b + a * (target - b) + rng.gauss(0.0, getattr(JITTER, f.name) * 0.5)
    out["rate"] = min(max(out["rate"], 0.65), 1.45)
    out["intensity"] = a
    out["mix"] = dict(mix)
    return out


def soft_label(params: dict) -> list[float]:
    """What the SER is taught an utterance sounds like: each emotion's share of the mix,
    with the part the intensity leaves out (up to full intensity) going to neutral. A
    recogniser taught so reports weak and blended speech as such, so its embedding moves
    with intensity and mixture instead of jumping between class clusters."""
    a = min(params["intensity"], 1.0)
    label = [a * params["mix"].get(e, 0.0) for e in EMOTIONS]
    label[0] += 1.0 - a
    return label
