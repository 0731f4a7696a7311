"""The whole recipe on a toy corpus, through its command line: render with Festival,
train every model for a few steps, export a voice, then measure it with `evaluate`
(which synthesizes through the TypeScript runtime). Checks that the commands fit
together and that the exported folder is a voice the runtime loads and speaks with."""
import json

import pytest

from recipe_cli import emomix



@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    w = tmp_path_factory.mktemp("recipe")
    corpus, runs, voice = w / "corpus", w / "runs", w / "voice"
    emomix("make-corpus", "--out", str(corpus), "--train", "10", "--eval", "2", "--seed", "3")
    emomix("train-ser", "--corpus", str(corpus), "--out", str(runs / "ser"), "--steps", "4", "--batch", "4")
    emomix("train-acoustic", "--corpus", str(corpus), "--ser", str(runs / "ser"), "--out", str(runs / "acoustic"),
           "--steps", "3", "--batch", "4")
    emomix("train-vocoder", "--corpus", str(corpus), "--out", str(runs / "vocoder"), "--steps", "3", "--batch", "2",
           "--adv-start", "2", "--eval-every", "100")
    emomix("export", "--acoustic", str(runs / "acoustic" / "checkpoint.pt"), "--ser", str(runs / "ser"),
           "--vocoder", str(runs / "vocoder" / "checkpoint.pt"), "--out", str(voice), "--id", "toy", "--name", "Toy")
    return {"corpus": corpus, "voice": voice, "work": w}


def test_corpus_has_every_emotion_and_a_held_out_split(voice):
    meta = [json.loads(line) for line in (voice["corpus"] / "metadata.jsonl").read_text().splitlines()]
    train = [m for m in meta if m["split"] == "train"]
    held = [m for m in meta if m["split"] == "eval"]
    assert len(train) == 10 and len(held) == 2 * 5
    assert {m["emotion"] for m in held} == {"neutral", "happy", "sad", "angry", "surprise"}
    assert not {m["text"] for m in train} & {m["text"] for m in held}
    assert all((voice["corpus"] / "wavs" / m["wav"]).exists() for m in meta)


def test_every_duration_sequence_covers_its_mel_once_the_unwritten_pauses_are_cut(voice):
    import torch
    from emomix import frontend
    from emomix.data.prepare import splices
    audio = {it["id"]: it for it in torch.load(voice["corpus"] / "audio.pt")["items"]}
    text = torch.load(voice["corpus"] / "text.pt")["items"]
    meta = [json.loads(line) for line in (voice["corpus"] / "metadata.jsonl").read_text().splitlines()]
    cut = splices(meta, frontend.phonemize([m["text"] for m in meta]), 22050)
    for m in meta:
        assert int(text[m["id"]]["durations"].sum()) == audio[m["id"]]["mel"].shape[1]
        # The joined audio is the kept spans, to within the last partial frame.
        assert abs(len(audio[m["id"]]["audio"]) - cut[m["id"]].seconds * 22050) < 256 + len(cut[m["id"]].spans)


def test_export_writes_the_contract_folder(voice):
    manifest = json.loads((voice["voice"] / "voice.json").read_text())
    assert manifest["id"] == "toy" and manifest["format"] == "emomix-voice"
    assert [e["name"] for e in manifest["emotions"]] == ["neutral", "happy", "sad", "angry", "surprise"]
    for name in manifest["files"].values():
        assert (voice["voice"] / name).stat().st_size > 0
    assert manifest["metrics"]["trainingSteps"]["acoustic"] == 3


def test_evaluate_measures_the_voice_through_the_runtime(voice):
    emomix("evaluate", "--voice", str(voice["voice"]), "--corpus", str(voice["corpus"]), "--sentences", "1",
           "--parts", "wer,emotion,mixing,intensity,speed", "--steps-list", "1,2", "--jobs", "1",
           "--work", str(voice["work"] / "evaluate"))
    report = json.loads((voice["voice"] / "voice.json").read_text())["metrics"]["evaluation"]
    assert report["sentences"] == 1
    assert set(report["werBySteps"]) == {"1", "2"}
    assert 0 <= report["werTeacher"] <= 100 and report["werCopySynthesis"] >= 0
    assert set(report["emotionAccuracy"]) == {"neutral", "happy", "sad", "angry", "surprise"}
    assert len(report["mixing"]) == 10
    assert set(report["intensity"]) == {"happy", "sad", "angry", "surprise"}
    assert report["rtfTwoEmotionMix"] > 0
    wavs = list((voice["work"] / "evaluate" / "neutral-2").glob("*.wav"))
    assert len(wavs) == 1 and wavs[0].stat().st_size > 44


def test_evaluate_measures_a_written_set_through_the_runtime_and_the_server(voice):
    emomix("evaluate", "--voice", str(voice["voice"]), "--corpus", str(voice["corpus"]), "--parts", "sets",
           "--sets", "short", "--set-sentences", "2", "--seeds", "1,2", "--steps-list", "1", "--jobs", "1",
           "--work", str(voice["work"] / "evaluate-sets"))
    short = json.loads((voice["voice"] / "voice.json").read_text())["metrics"]["evaluation"]["sets"]["short"]
    assert short["sentences"] == 2 and short["seeds"] == [1, 2]
    assert 0 <= short["teacher"] <= 100 and short["copySynthesis"] >= 0
    assert len(short["runtime"]["1"]["bySeed"]) == 2
    default = str(json.loads((voice["voice"] / "voice.json").read_text())["diffusion"]["steps"])
    server = short["server"][default]
    assert len(server["bySeed"]) == 2 and server["min"] <= server["mean"] <= server["max"]
    # Opus decoded at the client: 48 kHz WAVs, one per sentence and seed.
    for seed in (1, 2):
        wavs = sorted((voice["work"] / "evaluate-sets" / "sets" / "short" / f"server-{default}-{seed}").glob("*.wav"))
        assert len(wavs) == 2
        assert all(int.from_bytes(w.read_bytes()[24:28], "little") == 48000 for w in wavs)
