"""Turns the rendered corpus into training tensors: phoneme IDs from the front end,
frame durations from Festival's timing, log-mels and 16-bit audio."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from . import frontend
from .align import frame_durations
from .audio import MelConfig, log_mel, read_wav
from .profiles import EMOTIONS

TRAILING_PAUSE_S = 0.3


def prepare(corpus: Path, cfg: MelConfig = MelConfig(), progress=print) -> Path:
    out_path = corpus / "prepared.pt"
    meta = [json.loads(l) for l in (corpus / "metadata.jsonl").read_text().splitlines()]
    symbols = frontend.symbols()
    phon = frontend.phonemize([m["text"] for m in meta])
    items = []
    for k, (m, ph) in enumerate(zip(meta, phon)):
        audio, sr = read_wav(corpus / "wavs" / m["wav"])
        assert sr == cfg.sampleRate, f"{m['wav']}: {sr} Hz"
        segs = [(s, float(e)) for s, e in m["segments"]]
        # Leading silence is cut: phrases start on their first phone. Trailing
        # silence is kept up to 0.3 s and belongs to the final punctuation.
        start = segs[0][1] if segs[0][0] == "pau" else 0.0
        last_phone_end = max((e for s, e in segs if s != "pau"), default=segs[-1][1])
        end = min(len(audio) / sr, last_phone_end + TRAILING_PAUSE_S)
        a = audio[int(round(start * sr)): int(round(end * sr))]
        n_frames = len(a) // cfg.hopLength
        a = a[: n_frames * cfg.hopLength]
        syms = [symbols[i] for i in ph["ids"]]
        durs = frame_durations(syms, segs, start, end, sr, cfg.hopLength, n_frames)
        mel = log_mel(torch.from_numpy(a)[None], cfg)[0]
        assert mel.shape[1] == n_frames == sum(durs), (m["id"], mel.shape, n_frames, sum(durs))
        items.append({
            "id": m["id"], "split": m["split"], "text": m["text"], "emotion": EMOTIONS.index(m["emotion"]),
            "params": m["params"], "ids": torch.tensor(ph["ids"], dtype=torch.int16),
            "durations": torch.tensor(durs, dtype=torch.int16), "mel": mel.to(torch.float16),
            "audio": torch.from_numpy(np.round(a * 32767).astype(np.int16)),
        })
        if (k + 1) % 500 == 0:
            progress(f"prepare: {k + 1}/{len(meta)}")
    torch.save({"symbols": symbols, "mel": cfg.to_json(), "emotions": list(EMOTIONS), "items": items}, out_path)
    progress(f"prepare: wrote {out_path} ({len(items)} utterances)")
    return out_path
