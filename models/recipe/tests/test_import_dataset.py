"""import-dataset on small corpora in ESD's layout and the CSV layout, made here: several
transcript encodings, malformed lines, foreign sample rates and channel counts, silence
around the speech, unreadable, too short and missing clips."""
import codecs
import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from emomix.data.dataset_text import decode_text, parse_esd_transcript, parse_metadata_csv
from emomix.data.import_dataset import held_out, import_dataset, speech_bounds

RECIPE = Path(__file__).resolve().parents[1]
SENTENCES = ["The cat sat on the mat.", "We will meet again tomorrow.", "Where did you put the keys?",
             "That is a wonderful idea.", "Please close the door behind you."]


def write_clip(path: Path, rate: int, channels: int, speech_s: float = 1.0, silence_s: float = 0.4,
               width: int = 2, seed: int = 0) -> None:
    """Silence (a faint hiss), a voiced-like burst of speech_s seconds, silence again."""
    rng = np.random.RandomState(seed)
    t = np.arange(int(speech_s * rate)) / rate
    burst = 0.5 * np.sin(2 * np.pi * 180 * t) * np.hanning(len(t)) ** 0.1 + 0.05 * rng.randn(len(t))
    quiet = 1e-4 * rng.randn(int(silence_s * rate))
    mono = np.concatenate([quiet, burst, quiet])
    frames = np.repeat(mono[:, None], channels, axis=1)
    scale = 2 ** (8 * width - 1) - 1
    pcm = np.round(np.clip(frames, -1, 1) * scale).astype(np.int64)
    data = b"".join(int(v).to_bytes(width, "little", signed=True) for v in pcm.reshape(-1)) if width == 3 \
        else pcm.astype(f"<i{width}").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data)


def esd_corpus(root: Path) -> Path:
    """Two English speakers: 0011 with a UTF-16 transcript (BOM), WAVs in ESD's split
    folders, 16 kHz stereo; 0012 with a Latin-1 transcript, WAVs directly in the emotion
    folders, 24 kHz mono. Plus the flaws a real download has."""
    emotions = ["Neutral", "Happy", "Sad", "Angry", "Surprise"]
    lines11 = []
    for k, emo in enumerate(emotions):
        for j, split in enumerate(["train", "train", "evaluation"]):
            uid = f"0011_{k * 3 + j + 1:06d}"
            lines11.append(f"{uid}\t{SENTENCES[j]}\t{emo}")
            write_clip(root / "0011" / emo / split / f"{uid}.wav", 16000, 2, seed=k * 3 + j)
    lines11 += ["0011_000099 this line has no tabs", "0011_000098\tText\tBored", ""]
    (root / "0011" / "0011.txt").write_bytes(codecs.BOM_UTF16_LE + "\r\n".join(lines11).encode("utf-16-le"))
    lines12 = []
    for k, emo in enumerate(emotions[:2]):
        for j in range(2):
            uid = f"0012_{k * 2 + j + 1:06d}"
            lines12.append(f"{uid}\tCafé number {j} is open.\t{emo}")
            write_clip(root / "0012" / emo / f"{uid}.wav", 24000, 1, width=3, seed=40 + k * 2 + j)
    lines12.append("0012_000001\tDuplicate line.\tNeutral")
    lines12.append("0012_000050\tA line whose clip is missing.\tHappy")
    lines12.append("0012_000051\tToo short a clip.\tHappy")
    lines12.append("0012_000052\tA broken file.\tHappy")
    write_clip(root / "0012" / "Happy" / "0012_000051.wav", 24000, 1, speech_s=0.2, seed=60)
    (root / "0012" / "Happy" / "0012_000052.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEgarbage")
    (root / "0012" / "0012.txt").write_bytes("\n".join(lines12).encode("latin-1"))
    return root


def test_transcript_encodings_are_detected():
    text = "0011_000001\tCafé au lait.\tHappy\n"
    for raw, enc in [(text.encode("utf-8"), "utf-8"), (codecs.BOM_UTF8 + text.encode("utf-8"), "utf-8-sig"),
                     (codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "utf-16"),
                     (codecs.BOM_UTF16_BE + text.encode("utf-16-be"), "utf-16"),
                     (text.encode("utf-16-le"), "utf-16-le"), (text.encode("latin-1"), "latin-1")]:
        assert decode_text(raw) == (text, enc)


def test_malformed_esd_lines_are_reported_and_the_rest_kept():
    lines, bad = parse_esd_transcript("a\tOne.\tNeutral\nb One. Happy\nc\tTwo.\tBored\na\tAgain.\tSad\n"
                                      "d\t  Three   words  here. \tsurprise\n\ne\t\tHappy\n")
    assert [(ln.key, ln.text, ln.emotion) for ln in lines] == [("a", "One.", "neutral"),
                                                             ("d", "Three words here.", "surprise")]
    assert [no for no, _ in bad] == [2, 3, 4, 7]
    assert "tabs" in bad[0][1] and "Bored" in bad[1][1] and "twice" in bad[2][1]


def test_metadata_csv_columns_come_from_the_header():
    lines, bad = parse_metadata_csv("text|file|emotion|intensity|speaker\n"
                                    "Hello there.|a.wav|Happiness|0.4|anna\n"
                                    "Too|many|fields|0.1|x|y\n"
                                    "Bad intensity.|b.wav|sad|1.7|anna\n"
                                    "Unknown feeling.|c.wav|bored||anna\n"
                                    "No speaker given.|d.wav|angry||\n")
    assert [(ln.key, ln.emotion, ln.intensity, ln.speaker) for ln in lines] == [
        ("a.wav", "happy", 0.4, "anna"), ("d.wav", "angry", 1.0, None)]
    assert [no for no, _ in bad] == [3, 4, 5]
    lines, bad = parse_metadata_csv("file|words|emotion\nx.wav|Hi.|sad\n")
    assert lines == [] and bad[0][0] == 1 and "header" in bad[0][1]


def test_speech_bounds_trim_silence_by_energy():
    rate = 22050
    audio = np.concatenate([np.zeros(rate // 2), 0.3 * np.ones(rate), 1e-4 * np.ones(rate // 4)]).astype(np.float32)
    start, end = speech_bounds(audio, rate, margin_s=0.05)
    assert abs(start - (rate // 2 - int(0.05 * rate))) <= rate // 100
    assert abs(end - (rate // 2 + rate + int(0.05 * rate))) <= rate // 100
    assert speech_bounds(np.zeros(rate, dtype=np.float32), rate) is None


def test_held_out_sentences_are_chosen_by_text_deterministically():
    texts = [f"Sentence number {i}." for i in range(2000)]
    chosen = [t for t in texts if held_out(t, 0.05)]
    assert 60 <= len(chosen) <= 140
    assert chosen == [t for t in texts if held_out(" " + t.upper() + " ", 0.05)]


@pytest.fixture(scope="module")
def esd_import(tmp_path_factory):
    root = esd_corpus(tmp_path_factory.mktemp("esd"))
    out = tmp_path_factory.mktemp("corpus")
    logs = []
    summary = import_dataset("esd", root, out, speakers=["0011", "0012", "0003"], progress=logs.append)
    return out, summary, "\n".join(logs)


def test_esd_import_keeps_every_good_clip_and_reports_the_rest(esd_import):
    out, summary, log = esd_import
    meta = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    assert len(meta) == 15 + 4 and summary["utterances"] == 19
    by_id = {m["id"]: m for m in meta}
    # ESD's own ids and split folders; the folder's emotion; the speaker's dataset id.
    assert by_id["0011_000003"]["split"] == "eval" and by_id["0011_000001"]["split"] == "train"
    assert by_id["0011_000004"]["emotion"] == "happy" and by_id["0011_000004"]["speaker"] == "0011"
    assert by_id["0012_000001"]["text"] == "Café number 0 is open."
    assert summary["encodings"] == {"0011": "utf-16", "0012": "latin-1"}
    reasons = {s["item"].split("/")[-1]: s["reason"] for s in summary["skipped"]}
    assert "tabs" in reasons["0011.txt:16"] and "Bored" in reasons["0011.txt:17"]
    assert "twice" in reasons["0012.txt:5"]
    assert reasons["0012:0012_000050"] == "transcript line without audio"
    assert reasons["0012_000051.wav"].startswith("too short")
    assert reasons["0012_000052.wav"].startswith("unreadable")
    assert any("0003" in n and "Mandarin" in n for n in summary["notes"])
    assert set(summary["hours"]) == {"0011", "0012"} and set(summary["hours"]["0011"]) == {
        "neutral", "happy", "sad", "angry", "surprise"}
    assert "skipped" in log and "0011" in log


def test_esd_import_resamples_trims_and_prepares_tensors(esd_import):
    out, _, _ = esd_import
    with wave.open(str(out / "wavs" / "0011_000001.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (22050, 1, 2)
        seconds = w.getnframes() / 22050
    # 1.0 s of speech kept with 50 ms margins; 0.4 s of silence on each side trimmed away.
    assert 1.0 <= seconds <= 1.2
    audio = {it["id"]: it for it in torch.load(out / "audio.pt")["items"]}
    text = torch.load(out / "text.pt")["items"]
    assert audio["0012_000002"]["speaker"] == "0012" and audio["0011_000007"]["emotion"] == 2  # sad
    assert audio["0011_000001"]["mel"].shape[0] == 80 and audio["0011_000001"]["mel"].shape[1] > 80
    assert "durations" not in text["0011_000001"] and len(text["0011_000001"]["ids"]) > 10


def test_csv_import_through_the_command_line(tmp_path):
    root = tmp_path / "mine"
    write_clip(root / "clips" / "a.wav", 44100, 2, seed=1)
    write_clip(root / "clips" / "b.wav", 8000, 1, seed=2)
    write_clip(root / "clips" / "c.wav", 22050, 1, seed=3, speech_s=20.0)
    rows = ["file|text|emotion|speaker|intensity", "clips/a.wav|Good morning, everyone.|happy|kim|0.5",
            "clips/b.wav|I am so sorry to hear that.|Sad|lee|", "clips/c.wav|A very long recording.|neutral|kim|",
            "clips/a.wav|listed twice|happy|kim|", "clips/d.wav|Missing file.|angry|kim|", "broken line"]
    (root / "metadata.csv").write_bytes(codecs.BOM_UTF8 + "\n".join(rows).encode())
    out = tmp_path / "corpus"
    proc = subprocess.run([sys.executable, "-m", "emomix", "import-dataset", "--format", "csv", "--path", str(root),
                           "--out", str(out), "--max-seconds", "12"], cwd=RECIPE, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    meta = {m["id"]: m for m in map(json.loads, (out / "metadata.jsonl").read_text().splitlines())}
    assert set(meta) == {"kim_a", "lee_b"}
    assert meta["kim_a"]["params"] == {"mix": {"happy": 1.0}, "intensity": 0.5}
    assert meta["lee_b"]["emotion"] == "sad" and meta["lee_b"]["speaker"] == "lee"
    report = json.loads((out / "import-report.json").read_text())
    reasons = sorted(s["reason"].split(" (")[0] for s in report["skipped"])
    assert reasons == ["audio file missing", "malformed line: clips/a.wav listed twice",
                       "malformed line: expected 5 fields, found 1", "too long"]
    assert "import-dataset: 2 utterances kept" in proc.stdout
