"""Reading the text side of recorded datasets: transcripts in whatever encoding they come
in, ESD's `utt_id<TAB>text<TAB>emotion` lines and the `metadata.csv` of people's own
recordings. Pure functions: a bad line becomes a reported (line number, reason), never an
exception, and the rest of the file is kept."""
from __future__ import annotations

import codecs
from dataclasses import dataclass

from .profiles import EMOTIONS

# Names datasets use for the recipe's five emotions (ESD writes "Surprise", others "surprised").
EMOTION_NAMES = {**{e: e for e in EMOTIONS}, "happiness": "happy", "joy": "happy", "sadness": "sad",
                 "anger": "angry", "surprised": "surprise"}


def emotion_name(raw: str) -> str | None:
    return EMOTION_NAMES.get(raw.strip().lower())


def decode_text(raw: bytes) -> tuple[str, str]:
    """Bytes of a transcript → (text, encoding). A byte-order mark decides; without one,
    UTF-8 if the bytes are valid UTF-8, UTF-16 if every other byte is zero (BOM-less
    UTF-16 of Latin text), else Latin-1 (which decodes any byte)."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(name), name
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if len(raw) >= 2 and len(raw) % 2 == 0:
        if raw[1::2].count(0) > 0.9 * (len(raw) // 2):
            return raw.decode("utf-16-le", errors="replace"), "utf-16-le"
        if raw[0::2].count(0) > 0.9 * (len(raw) // 2):
            return raw.decode("utf-16-be", errors="replace"), "utf-16-be"
    return raw.decode("latin-1"), "latin-1"


@dataclass(frozen=True)
class Line:
    """One usable transcript row."""
    key: str              # ESD's utterance id, or the audio file named by metadata.csv
    text: str
    emotion: str          # one of EMOTIONS
    speaker: str | None = None
    intensity: float = 1.0
    split: str | None = None


def clean_text(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").split())


def parse_esd_transcript(text: str) -> tuple[list[Line], list[tuple[int, str]]]:
    """ESD's `<spk>.txt`: `utt_id<TAB>text<TAB>emotion` per line."""
    lines, bad, seen = [], [], set()
    for no, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        fields = [f.strip() for f in raw.split("\t") if f.strip()]
        if len(fields) != 3:
            bad.append((no, f"expected utt_id, text and emotion separated by tabs, found {len(fields)} field(s)"))
            continue
        key, sentence, emo = fields
        if emotion_name(emo) is None:
            bad.append((no, f"unknown emotion {emo!r}"))
        elif key in seen:
            bad.append((no, f"utterance {key} listed twice"))
        elif not clean_text(sentence):
            bad.append((no, "empty text"))
        else:
            seen.add(key)
            lines.append(Line(key, clean_text(sentence), emotion_name(emo)))
    return lines, bad


CSV_REQUIRED = ("file", "text", "emotion")
CSV_OPTIONAL = ("speaker", "intensity", "split")
SPLITS = {"train": "train", "eval": "eval", "evaluation": "eval", "valid": "eval", "validation": "eval",
          "test": "test"}


def parse_metadata_csv(text: str) -> tuple[list[Line], list[tuple[int, str]]]:
    """`metadata.csv`: a header naming the `|`-separated columns (file, text, emotion, and
    optionally speaker, intensity in [0, 1], split), then one row per recording. A header
    that lacks a required column is itself the error: nothing can be read."""
    rows = text.splitlines()
    header_no = next((i for i, r in enumerate(rows) if r.strip()), None)
    if header_no is None:
        return [], [(1, "empty file")]
    columns = [c.strip().lower() for c in rows[header_no].split("|")]
    missing = [c for c in CSV_REQUIRED if c not in columns]
    unknown = [c for c in columns if c not in CSV_REQUIRED + CSV_OPTIONAL]
    if missing or unknown or len(set(columns)) != len(columns):
        return [], [(header_no + 1, f"header must name the columns {'|'.join(CSV_REQUIRED)}[|speaker][|intensity]"
                                    f"[|split] once each; got {rows[header_no].strip()!r}")]
    lines, bad, seen = [], [], set()
    for no, raw in enumerate(rows[header_no + 1:], header_no + 2):
        if not raw.strip():
            continue
        fields = [f.strip() for f in raw.split("|")]
        if len(fields) != len(columns):
            bad.append((no, f"expected {len(columns)} fields, found {len(fields)}"))
            continue
        row = dict(zip(columns, fields))
        emo = emotion_name(row["emotion"])
        problem = None
        if emo is None:
            problem = f"unknown emotion {row['emotion']!r} (known: {', '.join(EMOTIONS)})"
        elif not row["file"] or not clean_text(row["text"]):
            problem = "empty file name or text"
        elif row["file"] in seen:
            problem = f"{row['file']} listed twice"
        intensity = 1.0
        if problem is None and row.get("intensity"):
            try:
                intensity = float(row["intensity"])
            except ValueError:
                intensity = -1.0
            if not 0.0 <= intensity <= 1.0:
                problem = f"intensity {row['intensity']!r} is not a number in [0, 1]"
        split = None
        if problem is None and row.get("split"):
            split = SPLITS.get(row["split"].lower())
            if split is None:
                problem = f"unknown split {row['split']!r} (train, eval or test)"
        if problem:
            bad.append((no, problem))
            continue
        seen.add(row["file"])
        lines.append(Line(row["file"], clean_text(row["text"]), emo, row.get("speaker") or None, intensity, split))
    return lines, bad
