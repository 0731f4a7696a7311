"""export: a voice folder in the contract of CONTRACT.md (ONNX graphs + voice.json)."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from ..audio import MelConfig
from ..data.profiles import EMOTIONS
from ..networks.acoustic import AcousticModel
from ..networks.estimators import Dilated1D
from ..networks.ser import SER
from ..networks.vocoder import Vocoder, VocoderConfig
from .compress import store_weights_fp16
from .estimator_matmuls import Dilated1DMatMuls

OPSET = 17


class EncoderGraph(nn.Module):
    def __init__(self, model: AcousticModel):
        super().__init__()
        self.encoder = model.encoder

    def forward(self, phonemes, phoneme_lengths, emotion):
        mu, log_durations, _ = self.encoder(phonemes, phoneme_lengths, emotion)
        return mu, log_durations


class DecoderGraph(nn.Module):
    def __init__(self, model: AcousticModel):
        super().__init__()
        self.decoder = model.decoder

    def forward(self, mu, position, mask, emotion):
        return self.decoder(mu, position, mask, emotion)


class EstimatorGraph(nn.Module):
    def __init__(self, estimator: nn.Module):
        super().__init__()
        self.estimator = estimator

    def forward(self, x, mu, mask, t, emotion):
        return self.estimator(x, mu, mask, t, emotion)


def export_graph(module: nn.Module, args: tuple, path: Path, inputs: dict, outputs: dict) -> None:
    """inputs/outputs: name → {axis index: axis name} for the dynamic axes."""
    module.eval()
    with torch.no_grad():
        torch.onnx.export(module, args, str(path), opset_version=OPSET, input_names=list(inputs),
                          output_names=list(outputs), dynamic_axes={**inputs, **outputs}, do_constant_folding=True)


def export_estimator(estimator: nn.Module, path: Path, condition_dim: int, n_mels: int = 80,
                     matmuls: bool = True) -> None:
    """A dilated1d estimator goes out as matrix products (estimator_matmuls.py), which
    scripts/quantize-int8.py can run in int8, unless `matmuls` is off; other presets as they are."""
    if matmuls and isinstance(estimator, Dilated1D):
        estimator = Dilated1DMatMuls(estimator)
    frames = 4 * 13
    x, mu, mask = torch.randn(2, n_mels, frames), torch.randn(2, n_mels, frames), torch.ones(2, 1, frames)
    export_graph(EstimatorGraph(estimator), (x, mu, mask, torch.rand(2), torch.randn(2, condition_dim)), path,
                 {"x": {0: "B", 2: "T"}, "mu": {0: "B", 2: "T"}, "mask": {0: "B", 2: "T"}, "t": {0: "B"},
                  "emotion": {0: "B"}},
                 {"score": {0: "B", 2: "T"}})


def export_acoustic(model: AcousticModel, out_dir: Path, matmuls: bool = True) -> None:
    """The graphs' `emotion` inputs take the conditioning vector: the emotion embedding,
    followed by the speaker's embedding in a multi-speaker voice (CONTRACT.md, "Speakers").
    `matmuls`: see export_estimator."""
    embedding_dim = model.condition_dim
    e = torch.randn(2, embedding_dim)
    ids, lengths = torch.randint(1, 20, (2, 11)), torch.tensor([11, 7])
    export_graph(EncoderGraph(model), (ids, lengths, e), out_dir / "encoder.onnx",
                 {"phonemes": {0: "B", 1: "N"}, "phoneme_lengths": {0: "B"}, "emotion": {0: "B"}},
                 {"mu": {0: "B", 2: "N"}, "log_durations": {0: "B", 1: "N"}})
    t_frames = 4 * 13
    mu, mask = torch.randn(2, model.n_mels, t_frames), torch.ones(2, 1, t_frames)
    export_graph(DecoderGraph(model), (mu, torch.rand(2, 2, t_frames), mask, torch.randn(2, embedding_dim, t_frames)),
                 out_dir / "decoder.onnx",
                 {"mu": {0: "B", 2: "T"}, "position": {0: "B", 2: "T"}, "mask": {0: "B", 2: "T"},
                  "emotion": {0: "B", 2: "T"}},
                 {"prior": {0: "B", 2: "T"}})
    export_estimator(model.estimator, out_dir / "estimator.onnx", embedding_dim, model.n_mels, matmuls)


def export_ser(model: SER, out_dir: Path) -> None:
    export_graph(model, (torch.randn(1, 80, 60),), out_dir / "ser.onnx",
                 {"mel": {0: "B", 2: "T"}}, {"embedding": {0: "B"}, "logits": {0: "B"}})


def export_vocoder(checkpoint_path, onnx_path) -> Path:
    """Writes vocoder.onnx (opset 17): `mel` float32 [B, 80, T] → `audio` float32 [B, T·hop]."""
    ckpt = torch.load(checkpoint_path, map_location="cpu")
    model = Vocoder(VocoderConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["generator"])
    model.eval()
    onnx_path = Path(onnx_path)
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(model, (torch.zeros(1, model.cfg.n_mels, 16),), str(onnx_path), opset_version=OPSET,
                          input_names=["mel"], output_names=["audio"],
                          dynamic_axes={"mel": {0: "batch", 2: "frames"}, "audio": {0: "batch", 1: "samples"}})
    return onnx_path


def centroid_list(names: list[str], centroids) -> list[dict]:
    return [{"name": n, "centroid": [round(float(v), 6) for v in c]} for n, c in zip(names, centroids)]


def speaker_entries(speakers: list[str], table: torch.Tensor | None, names: dict[str, str],
                    per_speaker: dict[str, dict[str, torch.Tensor]]) -> list[dict]:
    """voice.json's speakers: id (the dataset's own), display name, embedding (a row of the
    speaker table; empty in a one-speaker voice) and the emotions recorded for the speaker with
    their centroids over that speaker's utterances."""
    out = []
    for k, spk in enumerate(speakers):
        own = per_speaker.get(spk, {})
        out.append({"id": spk, "name": names.get(spk, spk),
                    "embedding": [round(float(v), 6) for v in table[k]] if table is not None else [],
                    "emotions": centroid_list(list(own), list(own.values()))})
    return out


def voice_manifest(*, voice_id: str, name: str, description: str, license: str, symbols: list[str],
                   emotions: list[str], centroids: torch.Tensor, frame_multiple: int, preset: str,
                   diffusion: dict, mel: MelConfig = MelConfig(), metrics: dict | None = None,
                   speakers: list[dict] | None = None) -> dict:
    """Format version 3: `speakers` lists the voice's speakers (one, with an empty embedding,
    for a one-speaker voice) and `speakerDim` the length of their embeddings."""
    speakers = speakers or [{"id": "default", "name": name, "embedding": [],
                             "emotions": centroid_list(emotions, centroids)}]
    return {
        "format": "emomix-voice", "formatVersion": 3,
        "id": voice_id, "name": name, "license": license, "description": description,
        "audio": {"sampleRate": mel.sampleRate},
        "mel": mel.to_json(),
        "frontend": {"name": "emomix-en", "version": 1, "phoneset": "arpabet-stress"},
        "symbols": symbols,
        "frameMultiple": frame_multiple,
        "embeddingDim": int(centroids.shape[1]),
        "neutral": "neutral",
        "emotions": centroid_list(emotions, centroids),
        "speakerDim": len(speakers[0]["embedding"]),
        "speakers": speakers,
        "diffusion": diffusion,
        "estimator": {"preset": preset},
        "files": {"encoder": "encoder.onnx", "decoder": "decoder.onnx", "estimator": "estimator.onnx",
                  "vocoder": "vocoder.onnx", "ser": "ser.onnx"},
        "metrics": metrics or {},
    }


DEFAULT_DIFFUSION = {"betaMin": 0.05, "betaMax": 20.0, "steps": 4, "temperature": 1.5, "solver": "ode",
                     "lengthScale": 1.0}


def add_arguments(p):
    p.add_argument("--acoustic", default="work/runs/acoustic/checkpoint.pt")
    p.add_argument("--ser", default="work/runs/ser")
    p.add_argument("--vocoder", default="work/runs/vocoder/checkpoint.pt")
    p.add_argument("--out", default="../slt-emo")
    p.add_argument("--id", default="slt-emo")
    p.add_argument("--name", default="SLT Emotional (EmoMix)")
    p.add_argument("--steps", type=int, default=DEFAULT_DIFFUSION["steps"], help="default diffusion steps")
    p.add_argument("--temperature", type=float, default=DEFAULT_DIFFUSION["temperature"])
    p.add_argument("--description", help="voice.json description (default: the teacher voice's)")
    p.add_argument("--license", help="voice.json licence line (default: the teacher voice's)")
    p.add_argument("--speaker-name", action="append", default=[], metavar="ID=NAME",
                   help="display name of a speaker (repeat per speaker; default: its id)")
    p.add_argument("--fp32", action="store_true",
                   help="store weights as float32 (default: float16 on disk, cast to float32 at load)")


def run(a) -> None:
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = torch.load(a.acoustic, map_location="cpu")
    model = AcousticModel(**ckpt["config"])
    model.load_state_dict(ckpt["model"])
    ser_ckpt = torch.load(Path(a.ser) / "checkpoint.pt", map_location="cpu")
    ser = SER(embedding_dim=ser_ckpt["config"]["embedding_dim"])
    ser.load_state_dict(ser_ckpt["model"])
    ser_out = torch.load(Path(a.ser) / "embeddings.pt")
    centroids = ser_out["centroids"]
    # Runs of train-ser before per-speaker centroids hold every emotion, in the recipe's order.
    emotion_names = ser_out.get("emotions", list(EMOTIONS))
    export_acoustic(model, out)
    export_ser(ser, out)
    export_vocoder(a.vocoder, out / "vocoder.onnx")
    if not a.fp32:
        # The shipped voice must stay under 60 MB; float32 graphs come to about 64 MB.
        for graph in ("encoder", "decoder", "estimator", "vocoder", "ser"):
            store_weights_fp16(out / f"{graph}.onnx")
    old = json.loads((out / "voice.json").read_text()) if (out / "voice.json").exists() else {}
    manifest = voice_manifest(
        voice_id=a.id, name=a.name,
        description=a.description or "A female US English voice with five emotions (neutral, happy, sad, angry, "
                    "surprise), trained by the EmoMix recipe on speech rendered by Festival's CMU SLT HTS voice.",
        license=a.license or "Model weights: MIT (this project). Teacher voice: CMU ARCTIC SLT HTS (BSD-style, free "
                "use). Text: LJ Speech transcripts (public domain) and the project's own lines (MIT).",
        symbols=ckpt["symbols"], emotions=emotion_names, centroids=centroids,
        speakers=speaker_entries(ckpt.get("speakers", []),
                                 model.speakers.weight.detach() if model.speakers is not None else None,
                                 dict(n.split("=", 1) for n in a.speaker_name),
                                 ser_out.get("speaker_centroids", {})) or None,
        frame_multiple=model.estimator.frame_multiple, preset=ckpt["config"]["preset"],
        diffusion={**DEFAULT_DIFFUSION, "steps": a.steps, "temperature": a.temperature},
        metrics={**old.get("metrics", {}), "trainingSteps": {"acoustic": ckpt["step"]}})
    (out / "voice.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"export: wrote {out}", flush=True)
