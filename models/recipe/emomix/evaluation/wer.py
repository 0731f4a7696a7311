"""Word error rate with Debian's pocketsphinx (US English acoustic and language model).

The reference of a sentence is the front end's normalised words (numbers and
abbreviations spelled out as the voice speaks them); the hypothesis is pocketsphinx's
transcript, lower-cased. The conversion to 16 kHz is repeatable (SoX's -R): SoX dithers
when it reduces to 16 bits, and with a fresh random dither each run pocketsphinx's transcript
of the same audio moved the teacher's WER on the conversational set between 11.1 % and 12.4 %.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

ASR_RATE = 16000
SOX_COMMAND = "sox -R <wav> -r 16000 -c 1 -b 16 <16k.wav>"
ASR_COMMAND = "pocketsphinx_continuous -infile <16k.wav> -logfn /dev/null"


def word_errors(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level Levenshtein distance: substitutions + deletions + insertions."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def hypothesis_words(transcript: str) -> list[str]:
    return transcript.lower().split()


def corpus_wer(pairs: list[tuple[list[str], list[str]]]) -> float:
    """Total errors over total reference words, in percent."""
    words = sum(len(ref) for ref, _ in pairs)
    if words == 0:
        raise ValueError("no reference words")
    return 100.0 * sum(word_errors(ref, hyp) for ref, hyp in pairs) / words


def sentence_errors(references: list[list[str]], hypotheses: dict[str, list[list[str]]]) -> list[dict]:
    """Per sentence, each variant's word errors, and how many more the worst variant made than
    the first (the reference audio, the teacher): the sentences that make a gap, worst first."""
    rows = []
    for i, ref in enumerate(references):
        errors = {name: word_errors(ref, hyps[i]) for name, hyps in hypotheses.items()}
        first = next(iter(errors.values()))
        rows.append({"sentence": i, "errors": errors, "excess": max(errors.values()) - first})
    return sorted(rows, key=lambda r: (-r["excess"], r["sentence"]))


def to_asr_wav(wav: Path, out: Path) -> Path:
    """`wav` as the recogniser takes it: 16 kHz mono 16-bit, the same bytes on every run."""
    subprocess.run(["sox", "-R", str(wav), "-r", str(ASR_RATE), "-c", "1", "-b", "16", str(out)],
                   check=True, capture_output=True)
    return out


def transcribe(wav: Path) -> str:
    """pocketsphinx's transcript of a WAV file of any rate (converted to 16 kHz mono 16-bit)."""
    with tempfile.TemporaryDirectory() as tmp:
        asr_wav = to_asr_wav(wav, Path(tmp) / "asr.wav")
        out = subprocess.run(["pocketsphinx_continuous", "-infile", str(asr_wav), "-logfn", "/dev/null"],
                             check=True, capture_output=True, text=True)
    # Continuous mode prints one line per utterance it segments.
    return " ".join(line.strip() for line in out.stdout.splitlines() if line.strip())
