import numpy as np
import pytest
import torch

from emomix.networks.acoustic import AcousticModel, alignment_path
from emomix.networks.decoder import FrameDecoder, phone_positions
from emomix.networks.diffusion import MixPlan, durations_from_log, expand, sample
from emomix.networks.encoder import TextEncoder

E = 8


def tiny(preset="dilated1d"):
    torch.manual_seed(0)
    est = {"channels": 16, "blocks": 3, "cond_dim": 32} if preset == "dilated1d" else {"dim": 16}
    model = AcousticModel(40, E, preset, encoder={"channels": 16, "layers": 1, "heads": 2, "ffn": 32,
                                                  "dp_hidden": 16}, estimator=est,
                          decoder={"channels": 16, "dilations": (1, 2)})
    if preset == "dilated1d":
        # The output layer starts at zero for training; tests need a score that depends on its inputs.
        torch.nn.init.normal_(model.estimator.noise.weight, std=0.1)
    return model


def test_encoder_shapes_and_padding_are_zero():
    enc = TextEncoder(40, E, channels=16, layers=1, heads=2, ffn=32, dp_hidden=16).eval()
    ids = torch.randint(1, 40, (2, 9))
    ids[1, 5:] = 0
    mu, logw, mask = enc(ids, torch.tensor([9, 5]), torch.randn(2, E))
    assert mu.shape == (2, 80, 9) and logw.shape == (2, 9) and mask.shape == (2, 1, 9)
    assert torch.all(mu[1, :, 5:] == 0) and torch.all(logw[1, 5:] == 0)
    assert torch.any(mu[1, :, :5] != 0)


def test_padding_does_not_change_real_positions():
    enc = TextEncoder(40, E, channels=16, layers=1, heads=2, ffn=32, dp_hidden=16).eval()
    ids, e = torch.randint(1, 40, (1, 6)), torch.randn(1, E)
    mu_a, logw_a, _ = enc(ids, torch.tensor([6]), e)
    padded = torch.cat([ids, torch.zeros(1, 4, dtype=torch.long)], dim=1)
    mu_b, logw_b, _ = enc(padded, torch.tensor([6]), e)
    assert torch.allclose(mu_a, mu_b[:, :, :6], atol=1e-5) and torch.allclose(logw_a, logw_b[:, :6], atol=1e-5)


def test_alignment_path_expands_by_durations():
    path = alignment_path(torch.tensor([[2, 1, 3]]), 6)
    assert path[0].argmax(0).tolist() == [0, 0, 1, 2, 2, 2]
    mu = torch.arange(3.0).view(1, 1, 3)
    assert torch.bmm(mu, path)[0, 0].tolist() == [0, 0, 1, 2, 2, 2]
    assert expand(np.arange(3.0)[None], np.array([2, 1, 3]))[0].tolist() == [0, 0, 1, 2, 2, 2]


def test_durations_round_to_nearest_with_at_least_one_frame():
    assert durations_from_log(np.log(np.array([0.01, 1.0, 2.2, 2.6, 3.0]))).tolist() == [1, 1, 2, 3, 3]
    assert durations_from_log(np.log(np.array([2.0, 3.0])), 1.5).tolist() == [3, 5]


@pytest.mark.parametrize("preset", ["dilated1d", "unet2d"])
def test_training_steps_lower_every_loss(preset):
    model = tiny(preset)
    torch.manual_seed(1)
    ids = torch.randint(1, 40, (4, 10))
    durations = torch.randint(2, 5, (4, 10))
    n = int(durations.sum(1).max())
    n += (-n) % 4
    # Mels that depend on the phoneme, so the prior can learn them.
    table = torch.randn(40, 80)
    mel = torch.zeros(4, 80, n)
    for b in range(4):
        mel[b, :, : int(durations[b].sum())] = table[ids[b]].t().repeat_interleave(durations[b], dim=1)
    lengths = durations.sum(1)
    emo = torch.randn(4, E)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def losses(seed):
        torch.manual_seed(seed)
        return model.losses(ids, torch.full((4,), 10), durations, mel, lengths, emo, 16)

    with torch.no_grad():
        before = np.array([[float(l) for l in losses(s)] for s in range(3)])
    for step in range(60):
        opt.zero_grad()
        sum(losses(100 + step)).backward()
        opt.step()
    with torch.no_grad():
        after = np.array([[float(l) for l in losses(s)] for s in range(3)])
    for k, name in enumerate(("duration", "prior", "frame prior", "diffusion")):
        b, a = before[:, k].mean(), after[:, k].mean()
        assert a < b, f"{name} loss did not drop: {b:.4f} → {a:.4f}"



def test_synthesise_gives_a_mel_as_long_as_its_durations_and_repeats_with_its_seed():
    model = tiny().eval()
    rows, w = torch.randn(2, E), np.array([0.7, 0.3], dtype=np.float32)
    out = model.synthesise([3, 5, 7, 9, 11], rows, w, steps=2, temperature=1.5, seed=1)
    assert out.durations.dtype == np.int64 and out.durations.shape == (5,)
    assert out.mel.shape == (80, int(out.durations.sum()))
    np.testing.assert_array_equal(out.durations, durations_from_log(out.log_durations))
    again = model.synthesise([3, 5, 7, 9, 11], rows, w, steps=2, temperature=1.5, seed=1)
    np.testing.assert_array_equal(again.mel, out.mel)
    slow = model.synthesise([3, 5, 7, 9, 11], rows, w, steps=2, temperature=1.5, seed=1, length_scale=2.0)
    np.testing.assert_array_equal(slow.durations, durations_from_log(out.log_durations, 2.0))

def test_phone_positions_place_each_frame_inside_its_phoneme():
    pos = phone_positions(torch.tensor([[2, 1, 3, 0]]), 8)
    np.testing.assert_allclose(pos[0, 0].numpy(), [0.25, 0.75, 0.5, 1 / 6, 0.5, 5 / 6, 0, 0], atol=1e-6)
    np.testing.assert_allclose(pos[0, 1].numpy(), np.log([2, 2, 1, 3, 3, 3, 1, 1]) / 4,
                               atol=1e-6)


def test_frame_decoder_starts_as_identity_and_keeps_padding_zero():
    dec = FrameDecoder(E, channels=16, dilations=(1, 2)).eval()
    mu = torch.randn(1, 80, 12)
    mask = torch.ones(1, 1, 12)
    mask[:, :, 9:] = 0
    out = dec(mu * mask, torch.rand(1, 2, 12), mask, torch.randn(1, E, 12))
    torch.testing.assert_close(out, mu * mask)


def run_plan(model, plan, **kw):
    torch.manual_seed(0)
    mu = np.random.RandomState(0).randn(80, 24).astype(np.float32)
    mask = np.ones((1, 24), dtype=np.float32)
    noise = np.random.RandomState(1).randn(80, 24).astype(np.float32)
    return sample(model.estimator.eval(), mu, mask, plan, steps=3, temperature=1.5, noise=noise, **kw)


def test_one_hot_mix_equals_single_emotion_run():
    model = tiny()
    emb = np.random.RandomState(2).randn(3, E).astype(np.float32)
    one_hot = np.zeros((3, 24), dtype=np.float32)
    one_hot[1] = 1
    mixed = run_plan(model, MixPlan(emb, one_hot))
    single = run_plan(model, MixPlan(emb[[1]], np.ones((1, 24), dtype=np.float32)))
    np.testing.assert_allclose(mixed, single, atol=1e-5)


def test_mixed_score_is_linear_in_the_weights():
    """One step with weights w is the w-weighted combination of the one-hot steps."""
    model = tiny()
    emb = np.random.RandomState(3).randn(2, E).astype(np.float32)
    w = np.tile(np.array([[0.3], [0.7]], dtype=np.float32), (1, 24))
    # With one step x₁ = x₀ − ½(μ − x₀ − s)βh is affine in s, so runs mix linearly.
    a = run_plan_steps(model, MixPlan(emb, w))
    e0 = run_plan_steps(model, MixPlan(emb[[0]], np.ones((1, 24), dtype=np.float32)))
    e1 = run_plan_steps(model, MixPlan(emb[[1]], np.ones((1, 24), dtype=np.float32)))
    np.testing.assert_allclose(a, 0.3 * e0 + 0.7 * e1, atol=1e-5)


def run_plan_steps(model, plan):
    mu = np.random.RandomState(0).randn(80, 24).astype(np.float32)
    noise = np.random.RandomState(1).randn(80, 24).astype(np.float32)
    return sample(model.estimator.eval(), mu, np.ones((1, 24), dtype=np.float32), plan, steps=1,
                  temperature=1.5, noise=noise)


def test_per_frame_weights_apply_per_frame():
    model = tiny()
    emb = np.random.RandomState(4).randn(2, E).astype(np.float32)
    w = np.zeros((2, 24), dtype=np.float32)
    w[0, :12], w[1, 12:] = 1, 1
    ramp = run_plan(model, MixPlan(emb, w))
    first = run_plan(model, MixPlan(emb[[0]], np.ones((1, 24), dtype=np.float32)))
    assert not np.allclose(ramp[:, 12:], first[:, 12:], atol=1e-4)
    # The receptive field couples frames, so only frames far from the switch match exactly.
    assert np.abs(ramp[:, :2] - first[:, :2]).max() < np.abs(ramp[:, 12:] - first[:, 12:]).max()


def test_emomix_schedule_uses_primary_then_secondary():
    plan = MixPlan(np.eye(2, E, dtype=np.float32), np.full((2, 5), 0.5, dtype=np.float32), primary=0, secondary=1,
                   t_max=0.7, t_min=0.3)
    emb, w = plan.rows_at(0.9)
    assert emb.shape[0] == 1 and emb[0, 0] == 1 and np.all(w == 1)
    emb, w = plan.rows_at(0.5)
    assert emb.shape[0] == 2 and np.all(w == 0.5)
    emb, w = plan.rows_at(0.1)
    assert emb[0, 1] == 1 and np.all(w == 1)


def test_training_without_durations_aligns_by_search_and_learns():
    """--align mas: no durations given; the model finds them from its own μ each step."""
    model = tiny()
    torch.manual_seed(1)
    ids = torch.randint(1, 40, (4, 8))
    truth = torch.randint(2, 6, (4, 8))
    table = torch.randn(40, 80)
    n = int(truth.sum(1).max())
    mel = torch.zeros(4, 80, n)
    for b in range(4):
        mel[b, :, : int(truth[b].sum())] = table[ids[b]].t().repeat_interleave(truth[b], dim=1)
    lengths, emo = truth.sum(1), torch.randn(4, E)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def losses(seed):
        torch.manual_seed(seed)
        return model.losses(ids, torch.full((4,), 8), None, mel, lengths, emo, 16)

    with torch.no_grad():
        before = float(losses(0)[1])
    for step in range(80):
        opt.zero_grad()
        sum(losses(100 + step)).backward()
        opt.step()
    with torch.no_grad():
        after = float(losses(0)[1])
    assert after < 0.8 * before, f"prior loss under MAS did not drop: {before:.3f} → {after:.3f}"
