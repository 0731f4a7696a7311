"""import-dataset: recorded emotional speech → the prepared corpus that training reads
(metadata.jsonl, wavs/, audio.pt, text.pt), without durations (train with --align mas).

`--format esd`: the English part of ESD as distributed, `<spk>/<spk>.txt` and
`<spk>/<Emotion>/[train|evaluation|test/]*.wav`. `--format csv`: a folder with
`metadata.csv` (dataset_text.parse_metadata_csv) and the audio it names. Audio of any rate,
channel count and format sox reads is resampled to the voice's rate in mono, its leading and
trailing silence trimmed by energy. Nothing bad stops the import: unreadable, silent, too
short or too long clips and malformed transcript lines are skipped, and the summary (printed
and written to import-report.json) says which and why.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..audio import MelConfig, write_wav
from .dataset_text import Line, decode_text, parse_esd_transcript, parse_metadata_csv
from .prepare import prepare_audio, prepare_text

ESD_ENGLISH = {f"{i:04d}" for i in range(11, 21)}
ESD_MANDARIN = {f"{i:04d}" for i in range(1, 11)}
ESD_SPLITS = {"train": "train", "evaluation": "eval", "test": "test"}


def load_audio(path: Path, sample_rate: int) -> np.ndarray:
    """Any file sox reads → float32 mono at sample_rate (channels averaged, very high quality
    resampling). Raises RuntimeError with sox's own message when it cannot."""
    proc = subprocess.run(["sox", "-q", "-G", str(path), "-t", "raw", "-e", "floating-point", "-b", "32",
                           "-c", "1", "-", "rate", "-v", str(sample_rate)], capture_output=True)
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(message[-1] if message else f"sox exited with {proc.returncode}")
    return np.frombuffer(proc.stdout, dtype="<f4").copy()


def speech_bounds(audio: np.ndarray, sample_rate: int, threshold_db: float = -40.0,
                  margin_s: float = 0.05) -> tuple[int, int] | None:
    """[start, end) samples of the audio between its first and last 10 ms frame whose
    energy is within threshold_db of the loudest frame, widened by margin_s each side;
    None for a clip with no such frame (silence)."""
    hop = max(sample_rate // 100, 1)
    n = len(audio) // hop
    if n == 0:
        return None
    energy = (audio[: n * hop].reshape(n, hop).astype(np.float64) ** 2).mean(1)
    if energy.max() <= 1e-10:
        return None
    loud = np.flatnonzero(10 * np.log10(np.maximum(energy, 1e-20) / energy.max()) > threshold_db)
    margin = int(margin_s * sample_rate)
    return max(int(loud[0]) * hop - margin, 0), min((int(loud[-1]) + 1) * hop + margin, len(audio))


def held_out(text: str, fraction: float) -> bool:
    """A deterministic held-out choice by sentence, so that a sentence read in several
    emotions (as in ESD) is held out in all of them."""
    digest = hashlib.sha1(" ".join(text.lower().split()).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2 ** 32 < fraction


class Report:
    """Everything skipped and why, and how much was kept."""

    def __init__(self):
        self.skipped: list[dict] = []
        self.notes: list[str] = []
        self.encodings: dict[str, str] = {}

    def skip(self, what: str, reason: str) -> None:
        self.skipped.append({"item": what, "reason": reason})

    def bad_lines(self, path: Path, bad: list[tuple[int, str]]) -> None:
        for no, why in bad:
            self.skip(f"{path}:{no}", f"malformed line: {why}")

    def summary(self, records: list[dict], sample_rate: int) -> dict:
        seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for r in records:
            seconds[r["speaker"]][r["emotion"]] += r["samples"] / sample_rate
        kinds = Counter(s["reason"].split(":")[0].split(" (")[0] for s in self.skipped)
        return {"utterances": len(records),
                "hours": {spk: {e: round(s / 3600, 4) for e, s in sorted(emo.items())}
                          for spk, emo in sorted(seconds.items())},
                "splits": dict(Counter(r["split"] for r in records)),
                "encodings": self.encodings, "notes": self.notes,
                "skippedByReason": dict(kinds), "skipped": self.skipped}


def esd_entries(root: Path, speakers: list[str] | None, eval_fraction: float,
                report: Report) -> list[tuple[Path, Line, str]]:
    """(audio, transcript line with speaker and split, utterance id) for every ESD clip that
    has a transcript line; clips without one and lines without a clip are reported."""
    found = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    chosen = speakers or [s for s in found if s in ESD_ENGLISH]
    out = []
    for spk in chosen:
        if spk in ESD_MANDARIN:
            report.notes.append(f"speaker {spk} is one of ESD's Mandarin speakers (0001-0010): out of scope, "
                                "the front end is English; skipped")
            continue
        folder = root / spk
        transcript = folder / f"{spk}.txt"
        if not transcript.is_file():
            report.skip(str(folder), "speaker without transcript (no <spk>/<spk>.txt)")
            continue
        text, encoding = decode_text(transcript.read_bytes())
        report.encodings[spk] = encoding
        lines, bad = parse_esd_transcript(text)
        report.bad_lines(transcript, bad)
        by_key = {ln.key: ln for ln in lines}
        used = set()
        for wav in sorted(folder.glob("*/**/*.wav")):
            rel = wav.relative_to(folder).parts
            line = by_key.get(wav.stem)
            if line is None:
                report.skip(str(wav), "no transcript line for this clip")
                continue
            used.add(wav.stem)
            if line.emotion != rel[0].lower() and rel[0].lower() in ("neutral", "happy", "sad", "angry", "surprise"):
                report.notes.append(f"{wav}: transcript says {line.emotion}, folder says {rel[0]}; folder kept")
                line = Line(line.key, line.text, rel[0].lower())
            split = next((ESD_SPLITS[p] for p in rel[1:-1] if p in ESD_SPLITS), None)
            split = split or ("eval" if held_out(line.text, eval_fraction) else "train")
            out.append((wav, Line(line.key, line.text, line.emotion, spk, 1.0, split), line.key))
        for key in sorted(set(by_key) - used):
            report.skip(f"{spk}:{key}", "transcript line without audio")
    return out


def csv_entries(root: Path, speakers: list[str] | None, eval_fraction: float,
                report: Report) -> list[tuple[Path, Line, str]]:
    meta = root / "metadata.csv"
    if not meta.is_file():
        raise SystemExit(f"import-dataset: {meta} not found")
    text, encoding = decode_text(meta.read_bytes())
    report.encodings["metadata.csv"] = encoding
    lines, bad = parse_metadata_csv(text)
    report.bad_lines(meta, bad)
    default_speaker = safe_id(root.resolve().name) or "speaker"
    out, ids = [], set()
    for line in lines:
        speaker = safe_id(line.speaker) if line.speaker else default_speaker
        if speakers and speaker not in speakers:
            continue
        uid = unique(f"{speaker}_{safe_id(Path(line.key).stem)}", ids)
        split = line.split or ("eval" if held_out(line.text, eval_fraction) else "train")
        out.append((root / line.key, Line(line.key, line.text, line.emotion, speaker, line.intensity, split), uid))
    return out


def safe_id(s: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", s or "").strip("-")


def unique(uid: str, taken: set[str]) -> str:
    k, out = 1, uid
    while out in taken:
        k += 1
        out = f"{uid}-{k}"
    taken.add(out)
    return out


def import_clip(src: Path, line: Line, uid: str, wav_dir: Path, sample_rate: int, min_s: float,
                max_s: float) -> dict | str:
    """The metadata record of the imported clip, or why it was skipped."""
    if not src.is_file():
        return "audio file missing"
    try:
        audio = load_audio(src, sample_rate)
    except RuntimeError as e:
        return f"unreadable: {e}"
    bounds = speech_bounds(audio, sample_rate)
    if bounds is None:
        return "silent"
    audio = audio[bounds[0]:bounds[1]]
    seconds = len(audio) / sample_rate
    if seconds < min_s:
        return f"too short ({seconds:.2f} s after trimming, minimum {min_s} s)"
    if seconds > max_s:
        return f"too long ({seconds:.1f} s after trimming, maximum {max_s} s)"
    write_wav(wav_dir / f"{uid}.wav", audio, sample_rate)
    return {"id": uid, "split": line.split, "text": line.text, "emotion": line.emotion, "speaker": line.speaker,
            "params": {"mix": {line.emotion: 1.0}, "intensity": line.intensity},
            "wav": f"{uid}.wav", "samples": len(audio), "source": str(src)}


def import_dataset(fmt: str, path: Path, out: Path, speakers: list[str] | None = None, eval_fraction: float = 0.05,
                   min_s: float = 0.5, max_s: float = 15.0, jobs: int = 2, cfg: MelConfig = MelConfig(),
                   progress=print) -> dict:
    """Writes out/metadata.jsonl and out/wavs, then the prepared tensors; returns the summary."""
    report = Report()
    entries = (esd_entries if fmt == "esd" else csv_entries)(path, speakers, eval_fraction, report)
    wav_dir = out / "wavs"
    wav_dir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(lambda e: import_clip(e[0], e[1], e[2], wav_dir, cfg.sampleRate, min_s, max_s),
                                entries))
    records = []
    for (src, _, _), result in zip(entries, results):
        if isinstance(result, str):
            report.skip(str(src), result)
        else:
            records.append(result)
    if not records:
        raise SystemExit(f"import-dataset: nothing usable in {path}: " +
                         json.dumps(report.summary([], cfg.sampleRate)["skippedByReason"]))
    with open(out / "metadata.jsonl", "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    summary = report.summary(records, cfg.sampleRate)
    (out / "import-report.json").write_text(json.dumps(summary, indent=1) + "\n")
    progress(format_summary(summary))
    prepare_audio(out, cfg, progress)
    prepare_text(out, cfg, progress)
    return summary


def format_summary(s: dict) -> str:
    rows = [f"import-dataset: {s['utterances']} utterances kept ({', '.join(f'{k} {v}' for k, v in s['splits'].items())})"]
    for spk, emo in s["hours"].items():
        rows.append(f"  speaker {spk}: " + ", ".join(f"{e} {h:.3f} h" for e, h in emo.items()))
    for spk, enc in s["encodings"].items():
        rows.append(f"  transcript of {spk}: {enc}")
    rows += [f"  note: {n}" for n in s["notes"]]
    if s["skipped"]:
        rows.append(f"  skipped {len(s['skipped'])}: " + ", ".join(f"{k} {v}" for k, v in s["skippedByReason"].items()))
        rows += [f"    {x['item']}: {x['reason']}" for x in s["skipped"][:20]]
        if len(s["skipped"]) > 20:
            rows.append(f"    … {len(s['skipped']) - 20} more in import-report.json")
    return "\n".join(rows)


def add_arguments(p):
    p.add_argument("--format", choices=["esd", "csv"], required=True)
    p.add_argument("--path", required=True, help="ESD's root folder (holding 0011 … 0020) or the CSV dataset's folder")
    p.add_argument("--out", default="work/corpus")
    p.add_argument("--speakers", help="comma-separated speaker ids to import (default: all; ESD: 0011-0020)")
    p.add_argument("--eval-fraction", type=float, default=0.05,
                   help="share of sentences held out where the dataset has no split of its own")
    p.add_argument("--min-seconds", type=float, default=0.5)
    p.add_argument("--max-seconds", type=float, default=15.0)
    p.add_argument("--jobs", type=int, default=2)


def run(a) -> None:
    speakers = [s.strip() for s in a.speakers.split(",") if s.strip()] if a.speakers else None
    import_dataset(a.format, Path(a.path), Path(a.out), speakers, a.eval_fraction, a.min_seconds, a.max_seconds,
                   a.jobs)
