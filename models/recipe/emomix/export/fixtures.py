"""fixtures: a tiny voice in the full contract and reference tensors for the
TypeScript runtime's parity tests (format: test/fixtures/README.md)."""
from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import numpy as np
import torch

from .. import frontend
from ..audio import MelConfig, log_mel
from ..data.profiles import EMOTIONS
from ..networks.acoustic import AcousticModel
from ..networks.decoder import phone_positions
from ..networks.diffusion import MixPlan, Schedule, diffusion_loss, expand, sample
from ..networks.estimators import build_estimator
from ..networks.ser import SER
from ..networks.vocoder import Vocoder, VocoderConfig
from ..rng import Mulberry32
from .voice import DEFAULT_DIFFUSION, export_acoustic, export_graph, export_ser, speaker_entries, voice_manifest

TINY_MEL = MelConfig(sampleRate=16000, nFft=256, winLength=256, hopLength=64, padding=96, fMax=8000.0)
EMBEDDING_DIM = 8
TINY_ESTIMATOR = {"channels": 16, "blocks": 3, "cond_dim": 32}
HEUN_CASE = "sampler-heun-ramp-schedule"


def tensor(x) -> dict:
    a = np.ascontiguousarray(x.detach().numpy() if isinstance(x, torch.Tensor) else x)
    dtype = {np.dtype("float32"): "float32", np.dtype("int64"): "int64"}[a.dtype]
    return {"dtype": dtype, "shape": list(a.shape), "data": base64.b64encode(a.astype("<" + a.dtype.str[1:]).tobytes()).decode()}


def write_case(path: Path, params: dict, inputs: dict, outputs: dict) -> None:
    path.write_text(json.dumps({"params": params, "inputs": {k: tensor(v) for k, v in inputs.items()},
                                "outputs": {k: tensor(v) for k, v in outputs.items()}}) + "\n")


def read_inputs(path: Path) -> dict[str, np.ndarray]:
    """The inputs of a case written by write_case."""
    case = json.loads(path.read_text())
    return {k: np.frombuffer(base64.b64decode(v["data"]), dtype=np.dtype(v["dtype"]).newbyteorder("<"))
            .astype(v["dtype"]).reshape(v["shape"]) for k, v in case["inputs"].items()}


def fit_tiny_estimator(model: AcousticModel, steps: int = 300) -> None:
    """A random estimator makes the sampler diverge, which would hide real mismatches
    behind huge numbers; a few hundred steps on synthetic mels make it score-like."""
    opt = torch.optim.Adam(model.estimator.parameters(), lr=3e-3)
    for _ in range(steps):
        mu = torch.repeat_interleave(torch.randn(8, 80, 8), 8, dim=2)
        x0 = mu + 0.3 * torch.randn_like(mu)
        loss = diffusion_loss(model.estimator, x0, torch.ones(8, 1, 64), mu, torch.randn(8, model.condition_dim))
        opt.zero_grad()
        loss.backward()
        opt.step()


TINY_SPEAKERS = ("0011", "0012")
SPEAKER_DIM = 4


def build_tiny_voice(out: Path, symbols: list[str], speakers: tuple[str, ...] = ()) -> tuple[AcousticModel, SER, Vocoder, torch.Tensor]:
    """With `speakers`, a multi-speaker voice (a speaker table of SPEAKER_DIM) whose speakers
    have their own centroids: the global ones, shifted per speaker."""
    out.mkdir(parents=True, exist_ok=True)
    acoustic = AcousticModel(len(symbols), EMBEDDING_DIM,
                             encoder={"channels": 16, "layers": 1, "heads": 2, "ffn": 32, "dp_hidden": 16},
                             estimator=TINY_ESTIMATOR, decoder={"channels": 16, "dilations": (1, 2)},
                             n_speakers=len(speakers), speaker_dim=SPEAKER_DIM if speakers else 0)
    fit_tiny_estimator(acoustic)
    # The decoder's output layer starts at zero (the identity); parity needs it to do something.
    torch.nn.init.normal_(acoustic.decoder.out.weight, std=0.1)
    # Durations of a few frames per phoneme, as a trained model would predict.
    with torch.no_grad():
        acoustic.encoder.duration.proj.bias.fill_(1.2)
    centroids = torch.tanh(torch.randn(len(EMOTIONS), EMBEDDING_DIM))
    ser = SER(channels=16, embedding_dim=EMBEDDING_DIM, n_classes=len(EMOTIONS))
    ser.anchors.copy_(centroids)
    vocoder = Vocoder(VocoderConfig(dim=32, intermediate=64, layers=2, n_fft=TINY_MEL.nFft, hop=TINY_MEL.hopLength))
    for m in (acoustic, ser, vocoder):
        m.eval()
    # Convolutions, as trained: committed_estimator reads the weights back by their names, and the
    # runtime is tested on both forms (test/quantize-int8.test.ts writes the matrix-product one).
    export_acoustic(acoustic, out, matmuls=False)
    export_ser(ser, out)
    export_graph(vocoder, (torch.randn(1, 80, 10),), out / "vocoder.onnx",
                 {"mel": {0: "B", 2: "T"}}, {"audio": {0: "B", 1: "L"}})
    # The second speaker has no surprise recordings: its entry lists four emotions.
    own = {spk: {e: centroids[k] + 0.1 * (i + 1) for k, e in enumerate(EMOTIONS) if not (i == 1 and e == "surprise")}
           for i, spk in enumerate(speakers)}
    manifest = voice_manifest(
        voice_id="tiny-speakers" if speakers else "tiny", name="Tiny test voice", license="MIT",
        description="Random weights, for parity tests only: it speaks noise.", symbols=symbols,
        emotions=list(EMOTIONS), centroids=centroids, frame_multiple=1, preset="dilated1d",
        diffusion=DEFAULT_DIFFUSION, mel=TINY_MEL,
        speakers=speaker_entries(list(speakers), acoustic.speakers.weight.detach() if speakers else None,
                                 {"0011": "Speaker 0011", "0012": "Speaker 0012"}, own) or None)
    (out / "voice.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return acoustic, ser, vocoder, centroids


def ramp_weights(n_frames: int, start: int, end: int) -> np.ndarray:
    """[2,T]: all on row 0 before `start`, all on row 1 after `end`, linear between."""
    a = np.clip((np.arange(n_frames) - start) / max(end - start, 1), 0.0, 1.0)
    return np.stack([1.0 - a, a]).astype(np.float32)


def safe_durations(log_w: np.ndarray, scale: float) -> bool:
    """Rounding is discontinuous at halves: refuse fixtures whose durations sit within 1e-3 of one."""
    v = np.exp(log_w) * scale
    return bool(np.all(np.abs(v - np.floor(v) - 0.5) > 1e-3))


def write_references(ref: Path, acoustic: AcousticModel, ser: SER, vocoder: Vocoder, centroids: torch.Tensor,
                     symbols: list[str]) -> None:
    ref.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    sched = Schedule()

    for name, cfg, n in (("logmel", MelConfig(), 9000), ("logmel-tiny", TINY_MEL, 3000)):
        t = torch.arange(n, dtype=torch.float32) / cfg.sampleRate
        wave = 0.5 * torch.sin(2 * math.pi * (200 + 1500 * t) * t) + 0.05 * torch.randn(n, generator=g)
        write_case(ref / f"{name}.json", {"mel": cfg.to_json()}, {"audio": wave}, {"mel": log_mel(wave[None], cfg)[0]})

    with torch.no_grad():
        ids = torch.randint(8, len(symbols), (2, 12), generator=g)
        lengths = torch.tensor([12, 7])
        ids[1, 7:] = 0
        emo = torch.randn(2, EMBEDDING_DIM, generator=g)
        mu, log_w, _ = acoustic.encoder(ids, lengths, emo)
        write_case(ref / "encoder.json", {}, {"phonemes": ids, "phoneme_lengths": lengths, "emotion": emo},
                   {"mu": mu, "log_durations": log_w})

        x, m = torch.randn(2, 80, 30, generator=g), torch.randn(2, 80, 30, generator=g)
        mask = torch.ones(2, 1, 30)
        mask[1, :, 21:] = 0
        position = phone_positions(torch.tensor([[3, 5, 2, 7, 4, 9], [4, 4, 6, 3, 4, 0]]), 30)
        frame_emo = torch.randn(2, EMBEDDING_DIM, 30, generator=g)
        write_case(ref / "decoder.json", {}, {"mu": m * mask, "position": position, "mask": mask, "emotion": frame_emo},
                   {"prior": acoustic.decoder(m * mask, position, mask, frame_emo)})
        t, e = torch.tensor([0.9, 0.3]), torch.randn(2, EMBEDDING_DIM, generator=g)
        write_case(ref / "estimator.json", {}, {"x": x, "mu": m, "mask": mask, "t": t, "emotion": e},
                   {"score": acoustic.estimator(x, m, mask, t, e)})

        mel = torch.randn(1, 80, 50, generator=g) - 5
        emb, logits = ser(mel)
        write_case(ref / "ser.json", {}, {"mel": mel}, {"embedding": emb, "logits": logits})

        mel = torch.randn(1, 80, 24, generator=g) - 5
        write_case(ref / "vocoder.json", {}, {"mel": mel}, {"audio": vocoder(mel)})

    rng = Mulberry32(1234)
    u32 = np.array([rng.next_u32() for _ in range(8)], dtype=np.int64)
    normals = Mulberry32(1234).normal((11,))
    write_case(ref / "rng.json", {"seed": 1234}, {}, {"u32": u32, "normal": normals})

    # Sampler runs on a μ from the tiny encoder, so that values are mel-like.
    mu_frames = expand(mu[0].numpy(), np.full(12, 4))
    n = mu_frames.shape[1]
    mask = np.ones((1, n), dtype=np.float32)
    two = centroids[[1, 2]].numpy()
    eps = Mulberry32(99).normal(mu_frames.shape)
    ramp = ramp_weights(n, 10, 30)
    plan = MixPlan(two, ramp)
    out = sample(acoustic.estimator, mu_frames, mask, plan, steps=6, temperature=1.5, noise=eps)
    write_case(ref / "sampler-ode-ramp.json",
               {"steps": 6, "temperature": 1.5, "solver": "ode", "betaMin": sched.beta_min, "betaMax": sched.beta_max},
               {"mu": mu_frames, "mask": mask, "noise": eps, "embeddings": two, "weights": plan.weights},
               {"mel": out})

    plan = MixPlan(two, np.tile(np.array([[0.6], [0.4]], dtype=np.float32), (1, n)), primary=0, secondary=1,
                   t_max=0.65, t_min=0.25)
    out = sample(acoustic.estimator, mu_frames, mask, plan, steps=5, temperature=1.2, seed=42, solver="sde")
    write_case(ref / "sampler-sde-schedule.json",
               {"steps": 5, "temperature": 1.2, "solver": "sde", "seed": 42, "betaMin": sched.beta_min,
                "betaMax": sched.beta_max, "schedule": {"primary": 0, "secondary": 1, "tMax": 0.65, "tMin": 0.25}},
               {"mu": mu_frames, "mask": mask, "embeddings": two, "weights": plan.weights}, {"mel": out})

    write_heun_case(ref, acoustic.estimator, mu_frames, mask, eps, two, ramp)
    write_synthesis(ref, acoustic, vocoder, centroids, symbols)


def write_heun_case(ref: Path, estimator, mu_frames, mask, eps, embeddings, weights) -> None:
    """Heun, 4 steps, on the inputs of sampler-ode-ramp under a schedule. Its evaluations at
    t = 1 | 0.75, 0.75 | 0.5, 0.5 | 0.25, 0.25 meet primary-only (t > 0.8), the ramp mix and
    secondary-only (t < 0.3), the first step's two ends in different ones; the bounds lie
    off the grid, so float rounding cannot move an evaluation across one."""
    sched = Schedule()
    plan = MixPlan(embeddings, weights, primary=0, secondary=1, t_max=0.8, t_min=0.3)
    out = sample(estimator, mu_frames, mask, plan, steps=4, temperature=1.5, noise=eps, solver="heun")
    write_case(ref / f"{HEUN_CASE}.json",
               {"steps": 4, "temperature": 1.5, "solver": "heun", "betaMin": sched.beta_min, "betaMax": sched.beta_max,
                "schedule": {"primary": 0, "secondary": 1, "tMax": 0.8, "tMin": 0.3}},
               {"mu": mu_frames, "mask": mask, "noise": eps, "embeddings": embeddings, "weights": weights},
               {"mel": out})


def committed_estimator(voice: Path):
    """The estimator of a written tiny voice, weights read back from its estimator.onnx (whose
    initializers keep the exported module's parameter names, `estimator.<name>`)."""
    import onnx
    from onnx import numpy_helper

    est = build_estimator("dilated1d", EMBEDDING_DIM, **TINY_ESTIMATOR)
    graph = onnx.load(str(voice / "estimator.onnx")).graph
    est.load_state_dict({i.name.removeprefix("estimator."): torch.from_numpy(numpy_helper.to_array(i).copy())
                         for i in graph.initializer})
    return est.eval()


def add_heun_case(out: Path) -> None:
    """Adds the Heun case to written fixtures, leaving every other file as it is. A full run
    refits the tiny estimator, and its float rounding differs between machines (weights move
    by ~1e-5), so it rewrites all of the committed files."""
    inputs = read_inputs(out / "reference" / "sampler-ode-ramp.json")
    write_heun_case(out / "reference", committed_estimator(out / "tiny-voice"), inputs["mu"], inputs["mask"],
                    inputs["noise"], inputs["embeddings"], inputs["weights"])


SYNTHESIS_TEXT = "Well, hello there! Is it 5 o'clock?"
SYNTHESIS_WEIGHTS = {"happy": 0.7, "sad": 0.3}


def synthesis_params() -> dict:
    return {"text": SYNTHESIS_TEXT, "weights": SYNTHESIS_WEIGHTS, "steps": 4, "temperature": 1.5, "solver": "ode",
            "seed": 7, "lengthScale": 1.0}


def synthesize(acoustic: AcousticModel, vocoder: Vocoder, ids: list[int], rows: torch.Tensor, w: np.ndarray):
    """The whole chain from phoneme IDs with the weighted conditioning rows [K,E(+S)], as
    synthesis_params() says. Returns durations, mel, audio."""
    p = synthesis_params()
    out = acoustic.synthesise(ids, rows, w, steps=p["steps"], temperature=p["temperature"], seed=p["seed"],
                              solver=p["solver"], length_scale=p["lengthScale"])
    assert safe_durations(out.log_durations, p["lengthScale"]), "durations too close to a half: change the text"
    with torch.no_grad():
        audio = vocoder(torch.from_numpy(out.mel)[None])[0]
    return out.durations, out.mel, audio


def write_synthesis(ref: Path, acoustic, vocoder, centroids, symbols) -> None:
    rows = [EMOTIONS.index(k) for k in SYNTHESIS_WEIGHTS]
    w = np.array(list(SYNTHESIS_WEIGHTS.values()), dtype=np.float32)
    ids = frontend.phonemize([SYNTHESIS_TEXT])[0]["ids"]
    durations, mel, audio = synthesize(acoustic, vocoder, ids, centroids[rows], w)
    write_case(ref / "synthesis.json", synthesis_params(), {"phonemes": np.array(ids, dtype=np.int64)},
               {"durations": durations, "mel": mel, "audio": audio})


def write_speaker_synthesis(ref: Path, voice: Path, acoustic, vocoder) -> None:
    """synthesis-speakers: the synthesis case once per speaker of the two-speaker voice, each
    conditioned on [the speaker's own centroid (the global one where it has none) ‖ its
    embedding], as CONTRACT.md ("Speakers") tells the runtime to."""
    manifest = json.loads((voice / "voice.json").read_text())
    global_c = {e["name"]: e["centroid"] for e in manifest["emotions"]}
    ids = frontend.phonemize([SYNTHESIS_TEXT])[0]["ids"]
    w = np.array(list(SYNTHESIS_WEIGHTS.values()), dtype=np.float32)
    outputs = {}
    for spk in manifest["speakers"]:
        own = {e["name"]: e["centroid"] for e in spk["emotions"]}
        rows = torch.tensor([own.get(k, global_c[k]) + spk["embedding"] for k in SYNTHESIS_WEIGHTS])
        durations, mel, audio = synthesize(acoustic, vocoder, ids, rows, w)
        outputs.update({f"durations.{spk['id']}": durations, f"mel.{spk['id']}": mel, f"audio.{spk['id']}": audio})
    write_case(ref / "synthesis-speakers.json", {**synthesis_params(), "speakers": [s["id"] for s in manifest["speakers"]]},
               {"phonemes": np.array(ids, dtype=np.int64)}, outputs)


def write_speaker_fixtures(out: Path, symbols: list[str]) -> None:
    torch.manual_seed(1)
    voice = out / "tiny-voice-speakers"
    acoustic, _, vocoder, _ = build_tiny_voice(voice, symbols, TINY_SPEAKERS)
    write_speaker_synthesis(out / "reference", voice, acoustic, vocoder)


def add_arguments(p):
    p.add_argument("--out", default="../../test/fixtures")
    p.add_argument("--speakers-only", action="store_true",
                   help="write only the two-speaker voice tiny-voice-speakers and reference/synthesis-speakers.json")
    p.add_argument("--heun-only", action="store_true",
                   help=f"write only reference/{HEUN_CASE}.json, from the tiny voice and sampler-ode-ramp inputs in --out")


def run(a) -> None:
    out = Path(a.out)
    if a.heun_only:
        add_heun_case(out)
        print(f"fixtures: wrote {out / 'reference' / HEUN_CASE}.json", flush=True)
        return
    symbols = frontend.symbols()
    if a.speakers_only:
        write_speaker_fixtures(out, symbols)
        print(f"fixtures: wrote {out / 'tiny-voice-speakers'} and reference/synthesis-speakers.json", flush=True)
        return
    torch.manual_seed(0)
    acoustic, ser, vocoder, centroids = build_tiny_voice(out / "tiny-voice", symbols)
    write_references(out / "reference", acoustic, ser, vocoder, centroids, symbols)
    write_speaker_fixtures(out, symbols)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"fixtures: wrote {out} ({size / 1024:.0f} KB)", flush=True)
