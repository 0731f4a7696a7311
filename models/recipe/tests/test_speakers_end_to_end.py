"""Several speakers end to end through the command line, on a corpus in ESD's layout made
here: import-dataset, train-ser (per-speaker centroids), train-acoustic with monotonic
alignment search and a speaker table, train-vocoder, export (contract version 3), then
both speakers spoken through the TypeScript runtime (`emomix synth`)."""
import json
import subprocess
import wave

import numpy as np
import onnx
import pytest
import torch

from recipe_cli import RECIPE, emomix
from test_import_dataset import esd_corpus

REPO = RECIPE.parents[1]



@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    w = tmp_path_factory.mktemp("speakers")
    esd, corpus, runs, voice = esd_corpus(w / "esd"), w / "corpus", w / "runs", w / "voice"
    emomix("import-dataset", "--format", "esd", "--path", str(esd), "--out", str(corpus))
    ser_log = emomix("train-ser", "--corpus", str(corpus), "--out", str(runs / "ser"), "--steps", "4", "--batch", "4",
                     "--embedding-dim", "16")
    log = emomix("train-acoustic", "--corpus", str(corpus), "--ser", str(runs / "ser"), "--out", str(runs / "acoustic"),
                 "--steps", "3", "--batch", "4", "--align", "mas", "--speaker-dim", "8")
    emomix("train-vocoder", "--corpus", str(corpus), "--out", str(runs / "vocoder"), "--steps", "2", "--batch", "2",
           "--adv-start", "2", "--eval-every", "100")
    emomix("export", "--acoustic", str(runs / "acoustic" / "checkpoint.pt"), "--ser", str(runs / "ser"),
           "--vocoder", str(runs / "vocoder" / "checkpoint.pt"), "--out", str(voice), "--id", "esd-toy",
           "--name", "ESD toy", "--speaker-name", "0011=First", "--fp32")
    return {"voice": voice, "runs": runs, "log": log, "ser_log": ser_log, "work": w}


def test_training_uses_a_speaker_table_and_per_speaker_centroids(voice):
    assert "2 speaker(s)" in voice["log"]
    ckpt = torch.load(voice["runs"] / "acoustic" / "checkpoint.pt")
    assert ckpt["speakers"] == ["0011", "0012"] and ckpt["align"] == "mas"
    assert ckpt["model"]["speakers.weight"].shape == (2, 8)
    ser = torch.load(voice["runs"] / "ser" / "embeddings.pt")
    assert set(ser["speaker_centroids"]) == {"0011", "0012"}
    # 0012 was recorded in two emotions only; its centroids say so.
    assert list(ser["speaker_centroids"]["0012"]) == ["neutral", "happy"]


def test_export_lists_the_speakers_with_their_dataset_ids(voice):
    m = json.loads((voice["voice"] / "voice.json").read_text())
    assert m["formatVersion"] == 3 and m["speakerDim"] == 8 and m["embeddingDim"] == 16
    assert [(s["id"], s["name"]) for s in m["speakers"]] == [("0011", "First"), ("0012", "0012")]
    assert [e["name"] for e in m["speakers"][1]["emotions"]] == ["neutral", "happy"]
    assert all(len(s["embedding"]) == 8 for s in m["speakers"])
    enc = onnx.load(str(voice["voice"] / "encoder.onnx"))
    emotion = next(i for i in enc.graph.input if i.name == "emotion")
    assert emotion.type.tensor_type.shape.dim[1].dim_value == 16 + 8


def test_both_speakers_speak_through_the_runtime(voice):
    out = voice["work"] / "synth"
    lines = [json.dumps({"text": "Hello from the speaker.", "out": str(out / f"{spk}.wav"), "weights": {"happy": 1},
                         "seed": 3, "speaker": spk, "steps": 2}) for spk in ("0011", "0012")]
    proc = subprocess.run(["node", "--import", "tsx", str(REPO / "src" / "cli" / "main.ts"), "synth", "--voice", str(voice["voice"]),
                           "--jsonl"], input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    audio = []
    for spk in ("0011", "0012"):
        with wave.open(str(out / f"{spk}.wav")) as w:
            assert w.getframerate() == 22050
            audio.append(np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64))
    assert min(len(a) for a in audio) > 2000
    n = min(len(a) for a in audio)
    assert len(audio[0]) != len(audio[1]) or np.abs(audio[0][:n] - audio[1][:n]).mean() > 1.0
    bad = subprocess.run(["node", "--import", "tsx", str(REPO / "src" / "cli" / "main.ts"), "synth", "--voice", str(voice["voice"]),
                          "--jsonl"], input=json.dumps({"text": "Hi.", "out": str(out / "x.wav"), "weights": {"happy": 1},
                                                        "speaker": "0099"}) + "\n", capture_output=True, text=True, cwd=REPO)
    assert bad.returncode == 1 and "0099" in bad.stderr
