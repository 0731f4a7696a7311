"""evaluate: measures an exported voice on the corpus's held-out sentences and records
the figures in its voice.json (metrics.evaluation).

Everything the voice says is synthesized by the TypeScript runtime (`emomix synth`), so
the numbers are those of the server's own code path; Python only scores the audio:
- intelligibility: pocketsphinx WER of neutral output per step count, of copy-synthesis
  (the vocoder on ground-truth mels) and of the teacher's own audio;
- emotion: the voice's SER on its own output, per emotion, and for 50/50 mixes;
- intensity: mean F0 and speaking rate for α = 0 … 1 toward each emotion, against the
  teacher's values for neutral and for that emotion;
- speed: real-time factor of a 2-emotion mix at the default step count (whole chain);
- sets: WER on each held-out set (heldout.py: the corpus's long sentences, short everyday
  sentences and conversational lines never trained on) for the teacher, copy-synthesis, the
  runtime at each step count and the server's own path (segmenter, session seeds, Opus on
  the wire, decoded) at the default step count, each averaged over several seeds.
"""
from __future__ import annotations

import itertools
import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .. import frontend
from ..audio import read_wav, write_wav
from ..data.corpus import SAMPLE_RATE
from ..data.prepared import load_items
from ..data.profiles import EMOTIONS
from .heldout import SET_NAMES, HeldoutSet, load_set
from .pitch import mean_f0
from .server_path import ServerPath
from .wer import corpus_wer, hypothesis_words, sentence_errors, transcribe

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)
PARTS = ("wer", "emotion", "mixing", "intensity", "speed", "sets")
SEED = 1234


def add_arguments(p):
    p.add_argument("--voice", default="../slt-emo", help="voice folder (voice.json + ONNX graphs)")
    p.add_argument("--corpus", default="work/corpus", help="prepared corpus with the held-out split")
    p.add_argument("--sentences", type=int, default=50, help="held-out sentences to use (all 50 by default)")
    p.add_argument("--steps-list", default="2,4,6,10,25", help="step counts for the WER curve")
    p.add_argument("--jobs", type=int, default=2, help="synthesis workers and ASR processes at once")
    p.add_argument("--work", default="work/evaluate", help="scratch folder for the audio it writes")
    p.add_argument("--parts", default=",".join(PARTS), help=f"what to measure, of {','.join(PARTS)}")
    p.add_argument("--solver", choices=["ode", "sde", "heun"], help="sampler solver (default: the voice's)")
    p.add_argument("--sets", default=",".join(SET_NAMES), help=f"held-out sets for the sets part, of {','.join(SET_NAMES)}")
    p.add_argument("--set-sentences", type=int, default=1000, help="sentences per held-out set, at most (sets part)")
    p.add_argument("--seeds", default="7,8,9", help="seeds the sets part averages over")
    p.add_argument("--dry-run", action="store_true", help="print the figures without writing voice.json")


class Synth:
    """Batches of requests through `emomix synth --jsonl`; replies come back in order."""

    def __init__(self, voice: Path, jobs: int, threads: int = 1):
        self.cmd = frontend.node_cli("synth") + ["--voice", str(voice), "--jsonl", "--jobs", str(jobs),
                                                  "--threads", str(threads)]

    def run(self, requests: list[dict]) -> list[dict]:
        payload = "".join(json.dumps(r) + "\n" for r in requests)
        out = subprocess.run(self.cmd, input=payload, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"emomix synth failed ({out.returncode}): {out.stderr.strip()}")
        return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def transcripts_of(wavs: list[Path], jobs: int) -> list[list[str]]:
    with ThreadPoolExecutor(jobs) as pool:
        return [hypothesis_words(h) for h in pool.map(transcribe, wavs)]


def wer_of(wavs: list[Path], references: list[list[str]], jobs: int, keep: dict | None = None, name: str = "") -> float:
    """WER of `wavs`; with `keep`, their transcripts are kept there under `name`."""
    hyps = transcripts_of(wavs, jobs)
    if keep is not None:
        keep[name] = hyps
    return round(corpus_wer(list(zip(references, hyps))), 2)


def rounded(value: float, digits: int) -> float | None:
    """JSON has no NaN (the runtime's voice.json parser would refuse it): unmeasurable is null."""
    return round(float(value), digits) if np.isfinite(value) else None


def merged_evaluation(previous: dict, report: dict, parts: list[str]) -> dict:
    """voice.json's figures after a run of some parts: what the run measured replaces the old
    figures, the rest stay, and held-out sets merge by name, so that measuring one set (the
    sets part takes an hour a set on two cores) does not erase the others. A run of the sets
    part alone leaves the run-level figures (sentences, seed, seconds) of the last full run."""
    sets = {**previous.get("sets", {}), **report.get("sets", {})}
    merged = {**previous} if set(parts) == {"sets"} else {**previous, **report}
    if sets:
        merged["sets"] = sets
    return merged


def speaking_rate(phones: int, seconds: float) -> float:
    return phones / seconds


def monotonic_toward(values: list[float], target: float) -> bool:
    """True when the sequence moves from values[0] toward `target` without turning back."""
    direction = np.sign(target - values[0])
    steps = np.diff(values) * direction
    return bool(direction != 0 and np.all(steps >= 0))


def teacher_prosody(items: list[dict], phones: dict[str, int]) -> dict[str, dict[str, float]]:
    """Mean F0 and speaking rate of the teacher's held-out audio, per emotion."""
    out = {}
    for emo in EMOTIONS:
        chosen = [it for it in items if it["emotion_name"] == emo]
        f0 = [mean_f0(it["audio"].numpy().astype(np.float32) / 32768.0, SAMPLE_RATE) for it in chosen]
        rate = [speaking_rate(phones[it["text"]], len(it["audio"]) / SAMPLE_RATE) for it in chosen]
        out[emo] = {"f0Hz": rounded(np.nanmean(f0), 2), "phonesPerSecond": rounded(np.mean(rate), 3)}
    return out


@dataclass
class Context:
    """The held-out sentences and everything each measurement needs about them."""
    voice_dir: Path
    work: Path
    manifest: dict
    texts: list[str]
    held: list[dict]
    references: list[list[str]]
    phones: dict[str, int]
    synth: Synth
    jobs: int
    extra: dict

    @property
    def emotions(self) -> list[str]:
        return [e["name"] for e in self.manifest["emotions"]]

    def say(self, tag: str, weights: dict, **extra) -> list[dict]:
        """Every sentence once, seeded per sentence, into work/<tag>/."""
        return self.synth.run([{"text": t, "out": str(self.work / tag / f"{i:03d}.wav"), "weights": weights,
                                "seed": SEED + i, **self.extra, **extra} for i, t in enumerate(self.texts)])


def measure_wer(c: Context, steps_list: list[int]) -> dict:
    """Teacher audio, copy-synthesis (vocoder on the teacher's mels) and neutral output per step count."""
    out: dict = {}
    neutral = {it["text"]: it for it in c.held if it["emotion_name"] == "neutral"}
    with tempfile.TemporaryDirectory() as tmp:
        teacher_wavs, mel_reqs = [], []
        for i, t in enumerate(c.texts):
            wav, npy = Path(tmp) / f"{i:03d}.wav", Path(tmp) / f"{i:03d}.npy"
            write_wav(wav, neutral[t]["audio"].numpy() / 32768.0, SAMPLE_RATE)
            teacher_wavs.append(wav)
            np.save(npy, neutral[t]["mel"].float().numpy().astype(np.float32))
            mel_reqs.append({"mel": str(npy), "out": str(c.work / "copy" / f"{i:03d}.wav")})
        out["werTeacher"] = wer_of(teacher_wavs, c.references, c.jobs)
        copy = c.synth.run(mel_reqs)
    out["werCopySynthesis"] = wer_of([Path(r["out"]) for r in copy], c.references, c.jobs)
    out["werBySteps"] = {}
    for steps in steps_list:
        replies = c.say(f"neutral-{steps}", {"neutral": 1}, steps=steps)
        out["werBySteps"][str(steps)] = wer_of([Path(r["out"]) for r in replies], c.references, c.jobs)
        print(f"evaluate: WER at {steps} steps {out['werBySteps'][str(steps)]}%", flush=True)
    return out


def measure_emotion(c: Context) -> dict:
    """The voice's own SER on its output, one emotion at a time at full intensity."""
    accuracy = {}
    for emo in c.emotions:
        replies = c.say(f"emotion-{emo}", {emo: 1}, recognise=True)
        accuracy[emo] = round(sum(max(r["emotion"], key=r["emotion"].get) == emo for r in replies) / len(replies), 3)
    return {"emotionAccuracy": accuracy}


def measure_mixing(c: Context) -> dict:
    """Every pair at 50/50: both mixed classes must out-score every other class."""
    mixing = {}
    for x, y in itertools.combinations(c.emotions, 2):
        replies = c.say(f"mix-{x}-{y}", {x: 0.5, y: 0.5}, recognise=True)
        mean = {e: float(np.mean([r["emotion"][e] for r in replies])) for e in c.emotions}
        others = max(v for e, v in mean.items() if e not in (x, y))
        mixing[f"{x}+{y}"] = {"probabilities": {e: round(v, 3) for e, v in mean.items()},
                              "pass": bool(mean[x] > others and mean[y] > others)}
    return {"mixing": mixing}


def measure_intensity(c: Context) -> dict:
    """Mean F0 and speaking rate for α toward each emotion, against the teacher's values."""
    teacher = teacher_prosody(c.held, c.phones)
    intensity = {}
    for emo in c.emotions:
        if emo == c.manifest["neutral"]:
            continue
        f0s, rates = [], []
        for alpha in ALPHAS:
            replies = c.say(f"intensity-{emo}-{alpha}", {emo: 1}, intensity=alpha)
            f0 = np.array([mean_f0(*read_wav(r["out"])) for r in replies])
            f0s.append(float(f0[np.isfinite(f0)].mean()) if np.isfinite(f0).any() else float("nan"))
            rates.append(float(np.mean([speaking_rate(c.phones[t], r["durationMs"] / 1000)
                                        for t, r in zip(c.texts, replies)])))
        intensity[emo] = {
            "alpha": list(ALPHAS), "f0Hz": [rounded(v, 2) for v in f0s],
            "phonesPerSecond": [round(v, 3) for v in rates],
            "f0Monotonic": monotonic_toward(f0s, teacher[emo]["f0Hz"]),
            "rateMonotonic": monotonic_toward(rates, teacher[emo]["phonesPerSecond"]),
        }
    return {"teacherProsody": teacher, "intensity": intensity}


def measure_speed(c: Context) -> dict:
    """A 2-emotion mix one request at a time: one stream's real-time factor, not the machine's throughput."""
    timed = Synth(c.voice_dir, jobs=1).run(
        [{"text": t, "out": str(c.work / "speed" / f"{i:03d}.wav"), "weights": {"happy": 0.5, "sad": 0.5},
          "seed": SEED + i, **c.extra} for i, t in enumerate(c.texts)])
    return {"rtfTwoEmotionMix": round(sum(r["timings"]["totalMs"] for r in timed)
                                      / sum(r["durationMs"] for r in timed), 4)}


def spread(values: list[float]) -> dict:
    return {"mean": round(float(np.mean(values)), 2), "min": round(min(values), 2), "max": round(max(values), 2),
            "bySeed": values}


def measure_set(c: Context, hs: HeldoutSet, steps_list: list[int], seeds: list[int]) -> dict:
    """One held-out set: teacher, copy-synthesis, runtime per step count and the server's path
    at the default step count, the last two over every seed (sentence i gets seed·1000 + i)."""
    records = {r["text"]: r for r in frontend.phonemize(hs.texts)}
    refs = [[w["word"] for w in records[t]["words"]] for t in hs.texts]
    folder = c.work / "sets" / hs.name
    teacher_wavs, mel_reqs = [], []
    for i, (audio, mel) in enumerate(zip(hs.audio, hs.mels)):
        wav, npy = folder / "teacher" / f"{i:03d}.wav", folder / "mels" / f"{i:03d}.npy"
        npy.parent.mkdir(parents=True, exist_ok=True)
        wav.parent.mkdir(parents=True, exist_ok=True)
        write_wav(wav, audio, SAMPLE_RATE)
        np.save(npy, mel.astype(np.float32))
        teacher_wavs.append(wav)
        mel_reqs.append({"mel": str(npy), "out": str(folder / "copy" / f"{i:03d}.wav")})
    heard: dict[str, list[list[str]]] = {}
    out = {"sentences": len(hs.texts), "seeds": seeds, "teacher": wer_of(teacher_wavs, refs, c.jobs, heard, "teacher"),
           "copySynthesis": wer_of([Path(r["out"]) for r in c.synth.run(mel_reqs)], refs, c.jobs, heard, "copy"),
           "runtime": {}}
    for steps in steps_list:
        per_seed = []
        for seed in seeds:
            replies = c.synth.run([{"text": t, "out": str(folder / f"runtime-{steps}-{seed}" / f"{i:03d}.wav"),
                                    "weights": {"neutral": 1}, "seed": seed * 1000 + i, "steps": steps, **c.extra}
                                   for i, t in enumerate(hs.texts)])
            per_seed.append(wer_of([Path(r["out"]) for r in replies], refs, c.jobs, heard, f"runtime-{steps}-{seed}"))
        out["runtime"][str(steps)] = spread(per_seed)
    default = c.manifest["diffusion"]["steps"]
    with ServerPath(c.voice_dir, steps=default) as server:
        per_seed = [wer_of(server.say_all(hs.texts, folder / f"server-{default}-{seed}", seed, c.jobs), refs, c.jobs,
                           heard, f"server-{default}-{seed}") for seed in seeds]
    out["server"] = {str(default): spread(per_seed)}
    # What each variant heard, sentence by sentence, to find where a gap comes from.
    (folder / "transcripts.json").write_text(json.dumps(
        {"texts": hs.texts, "references": refs, "hypotheses": heard, "bySentence": sentence_errors(refs, heard)},
        indent=1) + "\n")
    print(f"evaluate: set {hs.name}: teacher {out['teacher']}%, copy {out['copySynthesis']}%, "
          f"runtime at {default} steps {out['runtime'].get(str(default), {}).get('mean')}%, "
          f"server {out['server'][str(default)]['mean']}%", flush=True)
    return out


def measure_sets(c: Context, a) -> dict:
    seeds = [int(s) for s in a.seeds.split(",")]
    steps_list = [int(s) for s in a.steps_list.split(",")]
    return {"sets": {name: measure_set(c, load_set(name, Path(a.corpus), c.work / "teacher", a.set_sentences),
                                       steps_list, seeds) for name in a.sets.split(",")}}


def run(a) -> None:
    parts = a.parts.split(",")
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise SystemExit(f"evaluate: unknown part(s) {sorted(unknown)}; choose from {','.join(PARTS)}")
    voice_dir, work = Path(a.voice).resolve(), Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((voice_dir / "voice.json").read_text())
    # The written sets bring their own teacher audio; only the other parts read the corpus.
    needs_corpus = set(parts) != {"sets"} or "long" in a.sets.split(",")
    held = load_items(Path(a.corpus), "eval") if needs_corpus else []
    for it in held:
        it["emotion_name"] = EMOTIONS[it["emotion"]]
    texts = sorted({it["text"] for it in held})[: a.sentences]
    records = {r["text"]: r for r in frontend.phonemize(texts)}
    c = Context(voice_dir=voice_dir, work=work, manifest=manifest, texts=texts,
                held=[it for it in held if it["text"] in texts],
                references=[[w["word"] for w in records[t]["words"]] for t in texts],
                phones={t: sum(1 for s in records[t]["symbols"] if s not in ",.?!;:—") for t in texts},
                synth=Synth(voice_dir, a.jobs), jobs=a.jobs, extra={"solver": a.solver} if a.solver else {})
    started = time.time()
    report: dict = {"sentences": len(texts), "defaultSteps": manifest["diffusion"]["steps"],
                    "solver": a.solver or manifest["diffusion"]["solver"], "seed": SEED}
    measures = {"wer": lambda: measure_wer(c, [int(s) for s in a.steps_list.split(",")]),
                "emotion": lambda: measure_emotion(c), "mixing": lambda: measure_mixing(c),
                "intensity": lambda: measure_intensity(c), "speed": lambda: measure_speed(c),
                "sets": lambda: measure_sets(c, a)}
    for part in parts:
        report.update(measures[part]())
        print(f"evaluate: {part} done after {time.time() - started:.0f} s", flush=True)
    report["seconds"] = round(time.time() - started, 1)
    print(json.dumps(report, indent=1, allow_nan=False), flush=True)
    if not a.dry_run:
        metrics = manifest.setdefault("metrics", {})
        metrics["evaluation"] = merged_evaluation(metrics.get("evaluation", {}), report, parts)
        (voice_dir / "voice.json").write_text(json.dumps(manifest, indent=1, allow_nan=False) + "\n")
        print(f"evaluate: wrote metrics.evaluation to {voice_dir / 'voice.json'}", flush=True)
