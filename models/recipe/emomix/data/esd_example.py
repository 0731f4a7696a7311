"""make-esd-example: a small two-speaker emotional corpus in ESD's layout, rendered with
Festival's SLT HTS voice and Debian's KAL diphone voice through make-corpus's emotion
profiles, so the whole path for recorded speech (import-dataset, MAS, several speakers)
can be run and tested without downloading ESD. Like a real download, the transcripts come
in different encodings: UTF-16 with a byte-order mark for the first speaker, UTF-8 for
the second."""
from __future__ import annotations

import codecs
import json
import shutil
from pathlib import Path

from .corpus import DEFAULT_TRANSCRIPTS, make_corpus

# Festival voice, ESD-style speaker id, transcript encoding.
SPEAKERS = (("slt", "0011", "utf-16"), ("kal", "0012", "utf-8"))
ESD_EMOTION = {"neutral": "Neutral", "happy": "Happy", "sad": "Sad", "angry": "Angry", "surprise": "Surprise"}
ESD_SPLIT = {"train": "train", "eval": "evaluation"}


def write_esd_speaker(rendered: Path, root: Path, speaker: str, encoding: str) -> int:
    """Copies one make-corpus output into root/<speaker>/<Emotion>/<split>/<speaker>_NNNNNN.wav
    with its transcript root/<speaker>/<speaker>.txt; returns the number of clips."""
    records = [json.loads(line) for line in (rendered / "metadata.jsonl").read_text().splitlines()]
    lines = []
    for k, r in enumerate(records, 1):
        uid = f"{speaker}_{k:06d}"
        emotion = ESD_EMOTION[r["emotion"]]
        target = root / speaker / emotion / ESD_SPLIT[r["split"]] / f"{uid}.wav"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(rendered / "wavs" / r["wav"], target)
        lines.append(f"{uid}\t{r['text']}\t{emotion}")
    text = "\r\n".join(lines) + "\r\n"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le") if encoding == "utf-16" else text.encode(encoding)
    (root / speaker / f"{speaker}.txt").write_bytes(data)
    return len(records)


def add_arguments(p):
    p.add_argument("--out", default="work/esd-example", help="the ESD-layout root (speakers 0011 and 0012)")
    p.add_argument("--work", default="work/esd-example-render", help="Festival renderings, resumable")
    p.add_argument("--train", type=int, default=60, help="training sentences per speaker (one emotion each)")
    p.add_argument("--eval", type=int, default=4, help="held-out sentences per speaker (every emotion)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--transcripts", default=str(DEFAULT_TRANSCRIPTS))


def run(a) -> None:
    root = Path(a.out)
    for voice, speaker, encoding in SPEAKERS:
        rendered = Path(a.work) / voice
        # The same seed for both: they read the same sentences in the same emotions, as ESD's speakers do.
        make_corpus(rendered, a.train, a.eval, a.seed, a.jobs, Path(a.transcripts), voice=voice)
        n = write_esd_speaker(rendered, root, speaker, encoding)
        print(f"make-esd-example: speaker {speaker} ({voice}): {n} clips, transcript in {encoding}", flush=True)
