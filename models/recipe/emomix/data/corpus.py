"""make-corpus: render the emotional teacher corpus with Festival's HTS voice.

Each utterance is one sentence in one emotion, its prosody drawn around the
class profile (profiles.py). Festival writes 32 kHz audio and the end time of
every segment; sox applies pitch, loudness and timbre and resamples to the
voice rate. The held-out evaluation sentences are rendered in every emotion.
"""
from __future__ import annotations

import itertools
import json
import math
import os
import random
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .profiles import EMOTIONS, NEUTRAL, draw

SAMPLE_RATE = 22050
HERE = Path(__file__).resolve().parents[2]
DEFAULT_TRANSCRIPTS = HERE.parent.parent.parent / "shared" / "corpus" / "ljspeech-transcripts.txt"
CONVERSATIONAL = HERE / "corpus" / "conversational.txt"
# Training-only lines of what an agent says with numbers in it (money, times, dates, phone and
# booking phrasing), which LJ Speech's prose and the game-like lines above rarely have.
AGENT_LINES = HERE / "corpus" / "agent-lines.txt"
# Written for `evaluate` and never trained on (evaluation/heldout.py).
WRITTEN_HELDOUT = {"short": HERE / "corpus" / "heldout-short.txt",
                   "conversational": HERE / "corpus" / "heldout-conversational.txt"}


def read_lines(path: Path) -> list[str]:
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if len(line) >= 2 and line[0] == '"' and line[-1] == '"' and line.count('"') == 2:
            line = line[1:-1].strip()
        if line:
            out.append(line)
    return out


def select_sentences(transcripts: list[str], conversational: list[str], n_train: int,
                     n_eval: int, seed: int) -> tuple[list[str], list[str]]:
    """Train and held-out sentence lists, disjoint and reproducible from the seed.
    Transcript lines are kept to 30-160 characters so utterances stay under ~10 s; the
    sentences of the written held-out sets never enter either list."""
    rng = random.Random(seed)
    written = {s for path in WRITTEN_HELDOUT.values() for s in read_lines(path)}
    lj = sorted({s for s in transcripts if 30 <= len(s) <= 160} - written)
    conv = sorted(set(conversational) - written)
    rng.shuffle(lj)
    rng.shuffle(conv)
    n_eval_conv = n_eval // 5
    eval_set = lj[: n_eval - n_eval_conv] + conv[:n_eval_conv]
    train = (conv[n_eval_conv:] + lj[n_eval - n_eval_conv:])[:n_train]
    return train, eval_set


SHORT_WORDS = (3, 10)


def select_short(transcripts: list[str], taken: set[str], n: int, seed: int) -> list[str]:
    """Up to n transcript lines of 3-10 words that no other part of the plan uses: short
    utterances, which the 30-160 character selection leaves out but which a voice agent
    or a game character mostly says."""
    written = {s for path in WRITTEN_HELDOUT.values() for s in read_lines(path)}
    pool = sorted({s for s in transcripts if SHORT_WORDS[0] <= len(s.split()) <= SHORT_WORDS[1]} - taken - written)
    random.Random(seed + 4).shuffle(pool)
    return pool[:n]


def word_runs(text: str, n: int = 4) -> set[tuple[str, ...]]:
    """Every run of n consecutive words of the text, lower-cased."""
    words = re.findall(r"[a-z']+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def heldout_word_runs(n: int = 4) -> set[tuple[str, ...]]:
    """The runs of n words of the written held-out lines: a training line may share a held-out
    line's kind (a price, a time) but not its wording."""
    return set().union(*(word_runs(s, n) for path in WRITTEN_HELDOUT.values() for s in read_lines(path)))


def select_agent(lines: list[str], n: int) -> list[str]:
    """The first n agent lines, leaving out any that repeats four words of a held-out line."""
    held = heldout_word_runs()
    return [s for s in lines if not word_runs(s) & held][:n]


def scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Festival voice → (its select function, how the speaking rate reaches it): hts_engine's -r for
# the HTS voice, Festival's Duration_Stretch (the inverse of a rate) for the diphone voice.
FESTIVAL_VOICES = {
    "slt": ("(voice_cmu_us_slt_arctic_hts)", "(set! emomix-base hts_engine_params)",
            "  (set! hts_engine_params (append (list (list \"-r\" rate)) emomix-base))"),
    "kal": ("(voice_kal_diphone)", "", "  (Parameter.set 'Duration_Stretch (/ 1.0 rate))"),
}


def festival_script(items: list[dict], out_dir: Path, voice: str = "slt") -> str:
    select, setup, set_rate = FESTIVAL_VOICES[voice]
    lines = [
        select,
        setup,
        "(define (emomix-render text rate wav seg)",
        set_rate,
        "  (let ((u (SynthText text)) (fd (fopen seg \"w\")))",
        "    (utt.save.wave u wav 'riff)",
        "    (mapcar (lambda (s) (format fd \"%s %f\\n\" (item.name s) (item.feat s \"end\")))",
        "            (utt.relation.items u 'Segment))",
        "    (fclose fd)))",
    ]
    for it in items:
        raw, seg = out_dir / f"{it['id']}.raw.wav", out_dir / f"{it['id']}.seg"
        lines.append(f"(emomix-render {scheme_string(it['text'])} {it['params']['rate']:.4f} "
                     f"{scheme_string(str(raw))} {scheme_string(str(seg))})")
    return "\n".join(lines) + "\n"


def sox_effects(params: dict) -> list[str]:
    """Pitch (timing kept), timbre, then loudness after peak normalisation, so that
    loudness is a class cue rather than an accident of the text."""
    return ["pitch", f"{params['pitch_cents']:.1f}",
            "treble", f"{params['bright_db']:.2f}", "3000",
            "equalizer", "400", "1.5o", f"{params['chest_db']:.2f}",
            "equalizer", "1600", "1o", f"{params['press_db']:.2f}",
            "rate", "-v", str(SAMPLE_RATE),
            "gain", "-n", f"{params['gain_db']:.2f}"]


def finish(item: dict, out_dir: Path) -> dict:
    raw, seg, wav = (out_dir / f"{item['id']}{s}" for s in (".raw.wav", ".seg", ".wav"))
    subprocess.run(["sox", "-q", "-G", "-R", str(raw), "-b", "16", str(wav)] + sox_effects(item["params"]),
                   check=True)
    segments = []
    for line in seg.read_text().splitlines():
        name, end = line.split()
        segments.append([name, float(end)])
    raw.unlink()
    seg.unlink()
    info = subprocess.run(["soxi", "-s", str(wav)], check=True, capture_output=True, text=True)
    return {**item, "wav": wav.name, "segments": segments,
            "samples": int(info.stdout.strip())}


def render_batch(items: list[dict], out_dir: Path, voice: str = "slt") -> list[dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".scm", delete=False) as f:
        f.write(festival_script(items, out_dir, voice))
        script = f.name
    try:
        subprocess.run(["festival", "-b", script], check=True, capture_output=True)
    finally:
        os.unlink(script)
    return [finish(it, out_dir) for it in items]


WEAK_INTENSITY = (0.05, 0.6)
BLEND_WEIGHT = (0.25, 0.75)
BLEND_PAIRS = list(itertools.combinations([e for e in EMOTIONS if e != NEUTRAL], 2))


def plan(train: list[str], eval_set: list[str], seed: int, weak: int = 0, blends: int = 0,
         short: list[str] = (), agent: list[str] = ()) -> list[dict]:
    """One emotion per training sentence (balanced, shuffled); every emotion for
    each held-out sentence, at full intensity. Two optional extras follow, each with its
    own random stream so that adding them leaves the plan before them unchanged:
    `weak` utterances repeat the first training sentences in the four non-neutral
    emotions at intensities of 0.05–0.6, below the usual draw, so that the acoustic
    model hears the way from neutral to each emotion; `blends` utterances repeat the
    last training sentences in a blend of two non-neutral emotions (the first's share
    0.25–0.75), so that it hears the way between two emotions, which a mix asks for;
    `short` sentences (select_short), then `agent` lines (select_agent), come last, one
    emotion each, balanced."""
    rng = random.Random(seed + 1)
    items = []
    labels = [EMOTIONS[i % len(EMOTIONS)] for i in range(len(train))]
    rng.shuffle(labels)
    for i, (text, emo) in enumerate(zip(train, labels)):
        items.append({"id": f"tr{i:05d}", "split": "train", "text": text, "emotion": emo,
                      "params": draw({emo: 1.0}, rng)})
    for i, text in enumerate(eval_set):
        for emo in EMOTIONS:
            items.append({"id": f"ev{i:03d}-{emo}", "split": "eval", "text": text, "emotion": emo,
                          "params": draw({emo: 1.0}, rng, intensity=1.0)})
    weak_rng = random.Random(seed + 2)
    for i, text in enumerate(train[:weak]):
        emo = EMOTIONS[1 + i % (len(EMOTIONS) - 1)]
        items.append({"id": f"tw{i:05d}", "split": "train", "text": text, "emotion": emo,
                      "params": draw({emo: 1.0}, weak_rng, intensity=weak_rng.uniform(*WEAK_INTENSITY))})
    blend_rng = random.Random(seed + 3)
    for i, text in enumerate(train[max(len(train) - blends, 0):]):
        x, y = BLEND_PAIRS[i % len(BLEND_PAIRS)]
        w = blend_rng.uniform(*BLEND_WEIGHT)
        items.append({"id": f"tb{i:05d}", "split": "train", "text": text, "emotion": x if w >= 0.5 else y,
                      "params": draw({x: w, y: 1.0 - w}, blend_rng)})
    short_rng = random.Random(seed + 5)
    for i, text in enumerate(short):
        emo = EMOTIONS[i % len(EMOTIONS)]
        items.append({"id": f"ts{i:05d}", "split": "train", "text": text, "emotion": emo,
                      "params": draw({emo: 1.0}, short_rng)})
    agent_rng = random.Random(seed + 6)
    for i, text in enumerate(agent):
        emo = EMOTIONS[i % len(EMOTIONS)]
        items.append({"id": f"ta{i:05d}", "split": "train", "text": text, "emotion": emo,
                      "params": draw({emo: 1.0}, agent_rng)})
    return items


def make_corpus(out: Path, n_train: int, n_eval: int, seed: int, jobs: int,
                transcripts: Path = DEFAULT_TRANSCRIPTS, batch: int = 50, weak: int = 0, blends: int = 0,
                short: int = 0, agent: int = 0, progress=print, voice: str = "slt") -> Path:
    """Renders the corpus into out/wavs and writes out/metadata.jsonl. Resumable:
    utterances already listed in the metadata are not rendered again."""
    out.mkdir(parents=True, exist_ok=True)
    wav_dir = out / "wavs"
    wav_dir.mkdir(exist_ok=True)
    lines = read_lines(transcripts)
    train, eval_set = select_sentences(lines, read_lines(CONVERSATIONAL), n_train, n_eval, seed)
    items = plan(train, eval_set, seed, weak, blends, select_short(lines, set(train) | set(eval_set), short, seed),
                 select_agent(read_lines(AGENT_LINES), agent))
    meta_path = out / "metadata.jsonl"
    done = {}
    if meta_path.exists():
        for line in meta_path.read_text().splitlines():
            rec = json.loads(line)
            if (wav_dir / rec["wav"]).exists():
                done[rec["id"]] = rec
    todo = [it for it in items if it["id"] not in done]
    batches = [todo[i:i + batch] for i in range(0, len(todo), batch)]
    progress(f"make-corpus: {len(items)} utterances planned, {len(done)} present, "
             f"{len(todo)} to render in {len(batches)} batches on {jobs} jobs")
    with open(meta_path, "a") as meta, ThreadPoolExecutor(jobs) as pool:
        for k, recs in enumerate(pool.map(lambda b: render_batch(b, wav_dir, voice), batches)):
            for rec in recs:
                meta.write(json.dumps(rec) + "\n")
                done[rec["id"]] = rec
            meta.flush()
            progress(f"make-corpus: batch {k + 1}/{len(batches)}")
    hours = {s: sum(r["samples"] for r in done.values() if r["split"] == s) / SAMPLE_RATE / 3600
             for s in ("train", "eval")}
    progress(f"make-corpus: train {hours['train']:.2f} h, eval {hours['eval']:.2f} h")
    # Rewrite in plan order so that the file is the same whatever the resume history.
    order = {it["id"]: i for i, it in enumerate(items)}
    with open(meta_path, "w") as meta:
        for rec in sorted(done.values(), key=lambda r: order.get(r["id"], math.inf)):
            if rec["id"] in order:
                meta.write(json.dumps(rec) + "\n")
    return meta_path
