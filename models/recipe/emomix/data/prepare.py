"""Turns the rendered or imported corpus into training tensors.

`prepare_audio`: trimmed 16-bit audio and log-mels; where the corpus has Festival's timing
(the teacher corpus), the pauses Festival made where the text has no punctuation are cut
out (align.splice_unwritten_pauses), which needs the front end's phonemes.
`prepare_text`: phoneme IDs from the TypeScript front end and, where the corpus has
Festival's timing, frame durations aligned to that same trimmed and joined audio.
Imported recordings (import-dataset) come trimmed and without timing; training aligns
them by monotonic alignment search.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .. import frontend
from ..audio import MelConfig, log_mel, read_wav
from .align import Splice, frame_durations, splice_unwritten_pauses
from .profiles import EMOTIONS

TRAILING_PAUSE_S = 0.3


def load_metadata(corpus: Path) -> list[dict]:
    return [json.loads(l) for l in (corpus / "metadata.jsonl").read_text().splitlines()]


def trim_bounds(segments: list[tuple[str, float]], total_s: float) -> tuple[float, float]:
    """Leading silence is cut (phrases start on their first phone); trailing silence
    is kept up to 0.3 s and belongs to the final punctuation."""
    start = segments[0][1] if segments[0][0] == "pau" else 0.0
    last_phone_end = max((e for s, e in segments if s != "pau"), default=segments[-1][1])
    return start, min(total_s, last_phone_end + TRAILING_PAUSE_S)


def splices(timed: list[dict], phonemes: list[dict], sample_rate: int) -> dict[str, Splice]:
    """Each Festival-timed record's audio to train on, given its phonemes (frontend.phonemize):
    trimmed (trim_bounds), its unwritten pauses cut out."""
    symbols = frontend.symbols()
    out = {}
    for m, ph in zip(timed, phonemes):
        segs = [(s, float(e)) for s, e in m["segments"]]
        start, end = trim_bounds(segs, m["samples"] / sample_rate)
        out[m["id"]] = splice_unwritten_pauses([symbols[i] for i in ph["ids"]], segs, start, end)
    return out


def sample_spans(splice: Splice | None, total: int, sample_rate: int) -> list[tuple[int, int]]:
    """The kept [start, end) sample ranges of a file of `total` samples (all of it without a splice)."""
    if splice is None:
        return [(0, total)]
    return [(int(round(s * sample_rate)), min(total, int(round(e * sample_rate)))) for s, e in splice.spans]


def prepare_audio(corpus: Path, cfg: MelConfig = MelConfig(), progress=print) -> Path:
    out_path = corpus / "audio.pt"
    items = []
    meta = load_metadata(corpus)
    # Records without timing (imported recordings) are used whole.
    timed = [m for m in meta if "segments" in m]
    cut = splices(timed, frontend.phonemize([m["text"] for m in timed]), cfg.sampleRate) if timed else {}
    for k, m in enumerate(meta):
        audio, sr = read_wav(corpus / "wavs" / m["wav"])
        assert sr == cfg.sampleRate, f"{m['wav']}: {sr} Hz"
        a = np.concatenate([audio[s:e] for s, e in sample_spans(cut.get(m["id"]), len(audio), sr)])
        n_frames = len(a) // cfg.hopLength
        a = a[: n_frames * cfg.hopLength]
        mel = log_mel(torch.from_numpy(a)[None], cfg)[0]
        assert mel.shape[1] == n_frames
        items.append({"id": m["id"], "split": m["split"], "text": m["text"],
                      "emotion": EMOTIONS.index(m["emotion"]), "params": m["params"],
                      "speaker": m.get("speaker"),
                      "mel": mel.to(torch.float16),
                      "audio": torch.from_numpy(np.round(a * 32767).astype(np.int16))})
        if (k + 1) % 500 == 0:
            progress(f"prepare-audio: {k + 1}")
    torch.save({"mel": cfg.to_json(), "emotions": list(EMOTIONS), "items": items}, out_path)
    progress(f"prepare-audio: wrote {out_path} ({len(items)} utterances)")
    return out_path


def prepare_text(corpus: Path, cfg: MelConfig = MelConfig(), progress=print) -> Path:
    out_path = corpus / "text.pt"
    meta = load_metadata(corpus)
    symbols = frontend.symbols()
    phon = frontend.phonemize([m["text"] for m in meta])
    cut = splices([m for m in meta if "segments" in m], [ph for m, ph in zip(meta, phon) if "segments" in m],
                  cfg.sampleRate)
    items = {}
    for m, ph in zip(meta, phon):
        items[m["id"]] = {"ids": torch.tensor(ph["ids"], dtype=torch.int16)}
        if "segments" not in m:
            continue
        splice = cut[m["id"]]
        n_frames = sum(e - s for s, e in sample_spans(splice, m["samples"], cfg.sampleRate)) // cfg.hopLength
        syms = [symbols[i] for i in ph["ids"]]
        start = splice.spans[0][0]
        durs = frame_durations(syms, splice.segments, start, start + splice.seconds, cfg.sampleRate,
                               cfg.hopLength, n_frames)
        items[m["id"]]["durations"] = torch.tensor(durs, dtype=torch.int16)
    torch.save({"symbols": symbols, "items": items}, out_path)
    progress(f"prepare-text: wrote {out_path} ({len(items)} utterances)")
    return out_path
