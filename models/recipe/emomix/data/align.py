"""Per-phoneme frame durations from Festival's segment times.

The front end's phones (CMUdict with stress) and Festival's segments (the same
lexicon, unstressed, plus `pau`) differ now and then: letter-to-sound guesses,
reductions, inserted pauses. A Needleman-Wunsch alignment over the two phone
strings maps every Festival segment onto a front-end symbol; punctuation absorbs
pauses. This replaces monotonic alignment search: the teacher knows its own
timing exactly, and the prior converges much sooner with it on 2 CPU cores.
"""
from __future__ import annotations

from dataclasses import dataclass

PUNCT = set(",.?!;:—")
VOWELS = {"aa", "ae", "ah", "ao", "aw", "ay", "eh", "er", "ey", "ih", "iy", "ow", "oy", "uh", "uw", "ax", "axr"}


def base_phone(symbol: str) -> str:
    """AH0 → ax (Festival's schwa), ER0 → axr or er, others lose their stress digit."""
    if symbol == "AH0":
        return "ax"
    return symbol.rstrip("012").lower()


def sub_cost(sym: str, seg: str) -> float:
    if sym in PUNCT:
        return 0.0 if seg == "pau" else 3.0
    if seg == "pau":
        return 3.0
    p = base_phone(sym)
    if p == seg or (p == "ax" and seg == "ah") or (p == "er" and seg == "axr"):
        return 0.0
    return 1.0 if (p in VOWELS) == (seg in VOWELS) else 2.0


def align(symbols: list[str], segments: list[str]) -> list[int]:
    """For each segment, the index of the symbol it belongs to."""
    n, m = len(symbols), len(segments)
    INF = float("inf")
    skip_sym = [0.3 if s in PUNCT else 1.5 for s in symbols]
    skip_seg = [0.5 if s == "pau" else 1.5 for s in segments]
    cost = [[INF] * (m + 1) for _ in range(n + 1)]
    back = [[0] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        row, prev = cost[i], cost[i - 1] if i else None
        for j in range(m + 1):
            if i == 0 and j == 0:
                continue
            best, move = INF, 0
            if i and j:
                c = prev[j - 1] + sub_cost(symbols[i - 1], segments[j - 1])
                if c < best:
                    best, move = c, 0
            if i:
                c = prev[j] + skip_sym[i - 1]
                if c < best:
                    best, move = c, 1
            if j:
                c = row[j - 1] + skip_seg[j - 1]
                if c < best:
                    best, move = c, 2
            row[j], back[i][j] = best, move
    owner = [-1] * m
    i, j = n, m
    while i or j:
        move = back[i][j]
        if move == 0:
            owner[j - 1] = i - 1
            i, j = i - 1, j - 1
        elif move == 1:
            i -= 1
        else:
            # An unmatched segment joins the symbol before it (pauses after a word
            # belong to its end), or the first symbol at the very start.
            owner[j - 1] = max(i - 1, 0)
            j -= 1
    return owner


def frame_durations(symbols: list[str], segments: list[tuple[str, float]], start: float,
                    end: float, sample_rate: int, hop: int, n_frames: int) -> list[int]:
    """Frames per symbol over the audio [start, end) seconds; sums to n_frames and
    gives every symbol at least one frame (inference never predicts fewer)."""
    names = [s for s, _ in segments]
    owner = align(symbols, names)
    bounds = [0.0] * len(symbols)
    prev_end = 0.0
    for (name, seg_end), k in zip(segments, owner):
        clipped = min(max(seg_end, start), end)
        bounds[k] = max(bounds[k], clipped - start)
        prev_end = seg_end
    # Cumulative end time per symbol: monotone, each symbol ends where its last segment ends.
    ends, t = [], 0.0
    for b in bounds:
        t = max(t, b)
        ends.append(t)
    frames_at = [round(e * sample_rate / hop) for e in ends]
    frames_at[-1] = n_frames
    durs, last = [], 0
    for f in frames_at:
        f = min(max(f, last), n_frames)
        durs.append(f - last)
        last = f
    return ensure_min_one(durs)


def ensure_min_one(durs: list[int]) -> list[int]:
    durs = list(durs)
    for i, d in enumerate(durs):
        if d > 0:
            continue
        # Borrow a frame from the longest neighbour within two symbols.
        cands = [k for k in range(max(0, i - 2), min(len(durs), i + 3)) if durs[k] > 1]
        if not cands:
            cands = [k for k in range(len(durs)) if durs[k] > 1]
        if not cands:
            break
        k = max(cands, key=lambda k: durs[k])
        durs[k] -= 1
        durs[i] = 1
    return durs


@dataclass(frozen=True)
class Splice:
    """The audio to train on once Festival's unwritten pauses are cut out: `spans` are the
    kept [start, end) intervals of the file in seconds, `segments` the segment end times on
    the joined audio (the cut pauses gone)."""
    spans: list[tuple[float, float]]
    segments: list[tuple[str, float]]

    @property
    def seconds(self) -> float:
        return sum(e - s for s, e in self.spans)


def splice_unwritten_pauses(symbols: list[str], segments: list[tuple[str, float]], start: float,
                            end: float) -> Splice:
    """Cuts out of [start, end) every pause Festival made inside the utterance where the text
    has no punctuation ("… dollars pau and …"). Kept, such a pause joins the phone before it
    (align), and the duration predictor learns that phone as long as a pause, which no text
    can tell it at inference: "dollars" then takes 0.5 s and the words after it are squeezed.
    A pause aligned to punctuation stays: the punctuation symbol speaks it."""
    owner = align(symbols, [name for name, _ in segments])
    cuts: dict[int, tuple[float, float]] = {}  # segment index → the span it covers
    seg_start = 0.0
    for k, ((name, seg_end), o) in enumerate(zip(segments, owner)):
        if name == "pau" and 0 < k < len(segments) - 1 and symbols[o] not in PUNCT:
            s, e = max(seg_start, start), min(seg_end, end)
            if e > s:
                cuts[k] = (s, e)
        seg_start = seg_end
    spans, at = [], start
    for s, e in cuts.values():
        spans.append((at, s))
        at = e
    spans.append((at, end))
    joined, removed = [], 0.0
    for k, (name, seg_end) in enumerate(segments):
        if k in cuts:
            removed += cuts[k][1] - cuts[k][0]
        else:
            joined.append((name, seg_end - removed))
    return Splice([(s, e) for s, e in spans if e > s], joined)
