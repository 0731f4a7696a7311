import argparse
import signal

import onnx
import pytest
import torch
import torch.nn.functional as F

from emomix.audio import MelConfig, log_mel
from emomix.export.voice import export_vocoder
from emomix.networks.vocoder import InverseSTFT, Vocoder, VocoderConfig
from emomix.training.train_vocoder import WARMUP_STEPS, VocoderTraining, add_arguments, lr_factor, run

TINY = VocoderConfig(dim=32, intermediate=64, layers=2)
HOP = MelConfig.hopLength


def harmonic(batch: int, frames: int, seed: int = 0) -> torch.Tensor:
    """Voiced-like test audio: a few harmonics of a random pitch with a slow envelope."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(frames * HOP) / MelConfig.sampleRate
    f0 = 100 + 150 * torch.rand(batch, 1, generator=g)
    wave = sum(torch.sin(2 * torch.pi * k * f0 * t) / k for k in range(1, 6))
    return 0.2 * wave * (0.6 + 0.4 * torch.sin(2 * torch.pi * 3 * t))


@pytest.mark.parametrize("frames", [1, 5, 37])
def test_output_has_hop_samples_per_frame(frames):
    audio = Vocoder(TINY).eval()(torch.randn(2, 80, frames))
    assert audio.shape == (2, frames * HOP)
    assert torch.isfinite(audio).all()


def test_inverse_stft_inverts_the_contract_stft():
    cfg = MelConfig()
    x = torch.rand(2, 40 * HOP, generator=torch.Generator().manual_seed(1)) * 2 - 1
    padded = F.pad(x[:, None], (cfg.padding, cfg.padding), mode="reflect")[:, 0]
    spec = torch.stft(padded, cfg.nFft, hop_length=HOP, window=torch.hann_window(cfg.nFft, periodic=True),
                      center=False, return_complex=True)
    assert spec.shape[-1] == 40
    y = InverseSTFT(cfg.nFft, HOP)(spec.real, spec.imag)
    assert y.shape == x.shape
    assert (y - x)[:, cfg.nFft:-cfg.nFft].abs().max() < 1e-4
    assert (y - x).abs().max() < 1e-4


@pytest.mark.parametrize("n_fft,hop,frames", [(1024, 256, 30), (64, 16, 9), (32, 16, 7), (16, 4, 1)])
def test_inverse_stft_is_the_windowed_irfft_overlap_added(n_fft, hop, frames):
    """Any spectrum, not only a consistent one (the network's output is arbitrary): each frame's
    irfft (imaginary parts of bins 0 and N/2 ignored) times the window, overlap-added, over the
    overlap-added squared window, trimmed by (n_fft − hop)/2 at each end."""
    g = torch.Generator().manual_seed(n_fft + frames)
    real, imag = torch.randn(2, n_fft // 2 + 1, frames, generator=g), torch.randn(2, n_fft // 2 + 1, frames, generator=g)
    window = torch.hann_window(n_fft, periodic=True, dtype=torch.float64)
    spectrum = torch.complex(real.double(), imag.double()).transpose(1, 2)
    framed = torch.fft.irfft(spectrum, n=n_fft) * window
    length = (frames - 1) * hop + n_fft
    audio, envelope = torch.zeros(2, length, dtype=torch.float64), torch.zeros(length, dtype=torch.float64)
    for k in range(frames):
        audio[:, k * hop:k * hop + n_fft] += framed[:, k]
        envelope[k * hop:k * hop + n_fft] += window ** 2
    pad = (n_fft - hop) // 2
    expected = (audio / envelope)[:, pad:length - pad]
    got = InverseSTFT(n_fft, hop)(real, imag)
    assert got.shape == (2, frames * hop)
    assert (got.double() - expected).abs().max() < 1e-5 * expected.abs().max()


def test_inverse_stft_refuses_frames_it_cannot_fold():
    for n_fft, hop in [(1024, 384), (30, 10), (1024, 255)]:
        with pytest.raises(ValueError):
            InverseSTFT(n_fft, hop)


def test_lr_schedule_warms_up_then_decays_to_a_tenth():
    assert lr_factor(0, 10000) == pytest.approx(1 / WARMUP_STEPS)
    assert lr_factor(WARMUP_STEPS, 10000) == pytest.approx(1.0)
    assert lr_factor(10000, 10000) == pytest.approx(0.1)
    assert lr_factor(20000, 10000) == pytest.approx(0.1)


def test_training_steps_lower_the_mel_loss():
    torch.manual_seed(0)
    audio = harmonic(4, 16)
    mel = log_mel(audio)
    t = VocoderTraining(TINY, disc_width=2, lr=2e-3, total_steps=10 * WARMUP_STEPS)
    losses = [t.step(WARMUP_STEPS + i, mel, audio, adversarial=False)["mel"] for i in range(40)]
    assert losses[-1] < 0.8 * losses[0]

    before = [p.detach().clone() for p in t.mpd.parameters()]
    logs = t.step(WARMUP_STEPS + 40, mel, audio, adversarial=True)
    assert set(logs) == {"mel", "stft", "disc", "adv", "fm"}
    assert all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    assert any(not torch.equal(b, p) for b, p in zip(before, t.mpd.parameters()))
    assert all(p.requires_grad for p in t.mpd.parameters())


@pytest.fixture
def tiny_corpus(tmp_path):
    items = []
    for i, split in enumerate(["train", "train", "train", "eval"]):
        audio = harmonic(1, 20 + 5 * i, seed=i)[0]
        items.append({"id": f"u{i}", "split": split, "mel": log_mel(audio)[0].half(),
                      "audio": torch.round(audio * 32767).short()})
    torch.save({"items": items}, tmp_path / "audio.pt")
    return tmp_path


@pytest.fixture
def restore_signals():
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, h in saved.items():
        signal.signal(s, h)


def test_run_checkpoints_and_resumes(tiny_corpus, tmp_path, capsys, restore_signals):
    p = argparse.ArgumentParser()
    add_arguments(p)
    common = ["--corpus", str(tiny_corpus), "--out", str(tmp_path / "run"), "--batch", "2",
              "--segment-frames", "8", "--dim", "16", "--intermediate", "32", "--layers", "1",
              "--disc-width", "2", "--adv-start", "1", "--eval-every", "2", "--threads", "1"]
    run(p.parse_args(common + ["--steps", "2"]))
    run(p.parse_args(common + ["--steps", "3", "--dim", "24"]))
    log = capsys.readouterr().out
    assert "resuming at step 2" in log
    ckpt = torch.load(tmp_path / "run" / "checkpoint.pt")
    assert ckpt["step"] == 3
    assert ckpt["config"]["dim"] == 16  # a resumed run keeps its architecture
    assert (tmp_path / "run" / "samples" / "u3-step2.wav").exists()


def test_export_writes_the_contract_graph(tmp_path):
    model = Vocoder(TINY)
    torch.save({"config": TINY.to_json(), "generator": model.state_dict()}, tmp_path / "ckpt.pt")
    path = export_vocoder(tmp_path / "ckpt.pt", tmp_path / "vocoder.onnx")
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    assert graph.opset_import[0].version == 17

    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    (mel,), (audio,) = graph.graph.input, graph.graph.output
    assert (mel.name, mel.type.tensor_type.elem_type) == ("mel", onnx.TensorProto.FLOAT)
    assert (audio.name, audio.type.tensor_type.elem_type) == ("audio", onnx.TensorProto.FLOAT)
    assert dims(mel) == ["batch", 80, "frames"]
    assert dims(audio) == ["batch", "samples"]
    ops = {n.op_type for n in graph.graph.node}
    assert not any(op.startswith("Random") or op in ("Dropout", "Bernoulli", "Multinomial") for op in ops)
    # The inverse STFT is folded matrix products (InverseSTFT), not one dense ConvTranspose.
    assert "ConvTranspose" not in ops
    istft = [n for n in graph.graph.node if n.name.startswith("/istft/")]
    assert sum(n.op_type == "MatMul" for n in istft) == 4
