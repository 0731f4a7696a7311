"""Turns the rendered or imported corpus into training tensors.

`prepare_audio` (no front end needed): trimmed 16-bit audio and log-mels.
`prepare_text`: phoneme IDs from the TypeScript front end and, where the corpus has
Festival's timing (the teacher corpus), frame durations aligned to the trimmed audio.
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
from .align import frame_durations
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


def audio_span(record: dict, total_s: float) -> tuple[float, float]:
    """The part of a corpus file to train on: trimmed by Festival's segments where it has
    them, the whole (already trimmed) file otherwise."""
    if "segments" in record:
        return trim_bounds([(s, float(e)) for s, e in record["segments"]], total_s)
    return 0.0, total_s


def prepare_audio(corpus: Path, cfg: MelConfig = MelConfig(), progress=print) -> Path:
    out_path = corpus / "audio.pt"
    items = []
    for k, m in enumerate(load_metadata(corpus)):
        audio, sr = read_wav(corpus / "wavs" / m["wav"])
        assert sr == cfg.sampleRate, f"{m['wav']}: {sr} Hz"
        start, end = audio_span(m, len(audio) / sr)
        a = audio[int(round(start * sr)): int(round(end * sr))]
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
    items = {}
    for m, ph in zip(meta, phon):
        items[m["id"]] = {"ids": torch.tensor(ph["ids"], dtype=torch.int16)}
        if "segments" not in m:
            continue
        segs = [(s, float(e)) for s, e in m["segments"]]
        start, end = trim_bounds(segs, m["samples"] / cfg.sampleRate)
        n_frames = (int(round(end * cfg.sampleRate)) - int(round(start * cfg.sampleRate))) // cfg.hopLength
        syms = [symbols[i] for i in ph["ids"]]
        durs = frame_durations(syms, segs, start, end, cfg.sampleRate, cfg.hopLength, n_frames)
        items[m["id"]]["durations"] = torch.tensor(durs, dtype=torch.int16)
    torch.save({"symbols": symbols, "items": items}, out_path)
    progress(f"prepare-text: wrote {out_path} ({len(items)} utterances)")
    return out_path
