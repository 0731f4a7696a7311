"""The Heun sampler: second-order accuracy, the mixing it shares with Euler, its call count."""
import numpy as np
import pytest
import torch

from emomix.networks.diffusion import MixPlan, Schedule, sample
from emomix.networks.estimators import build_estimator

E = 8
T = 16
MU = np.random.RandomState(0).randn(80, T).astype(np.float32)
NOISE = np.random.RandomState(1).randn(80, T).astype(np.float32)
MASK = np.ones((1, T), dtype=np.float32)
TAU = 1.5


def linear_score(x, mu, mask, t, emotion):
    """s = −c·(x − μ), c the emotion row's first value. Mixed per frame, s = −c̄·(x − μ) with
    c̄ = Σ w_k·c_k, and the ODE dx/dt = ½(c̄ − 1)β(t)(x − μ) has the solution
    x(0) − μ = (x(1) − μ)·exp(−½(c̄ − 1)·∫₀¹β)."""
    return -emotion[:, :1, None] * (x - mu) * mask


def ramp_plan() -> MixPlan:
    a = np.clip((np.arange(T) - 4) / 8, 0.0, 1.0)
    # c = 0.6 pushes x away from μ (by e^2.5 over the run), c = 1.5 pulls it in.
    return MixPlan(np.array([[0.6] + [0] * (E - 1), [1.5] + [0] * (E - 1)], dtype=np.float32),
                   np.stack([1.0 - a, a]).astype(np.float32))


def exact(plan: MixPlan) -> np.ndarray:
    c = plan.weights.T @ plan.embeddings[:, 0]
    return MU + NOISE / TAU * np.exp(-0.5 * (c - 1.0) * Schedule().cumulative(1.0))[None]


def error(steps: int, solver: str) -> float:
    plan = ramp_plan()
    return float(np.abs(sample(linear_score, MU, MASK, plan, steps, TAU, noise=NOISE, solver=solver) - exact(plan)).max())


def test_closed_form_is_the_limit_of_the_euler_solver():
    """Pins the sign conventions: the toy's solution is where the contract's Euler steps go."""
    assert error(1000, "ode") < 0.05


@pytest.mark.parametrize("n", [2, 4, 8])
def test_heun_beats_euler_with_more_estimator_calls(n):
    # Heun with n steps makes 2n − 1 calls, Euler with 2n steps 2n.
    assert error(n, "heun") < 0.5 * error(2 * n, "ode")


def test_heun_is_second_order():
    # Halving h divides the error by about 4 (3.6 measured: the last step is Euler's).
    assert error(8, "heun") < 0.35 * error(4, "heun")


def recording(calls: list):
    def estimator(x, mu, mask, t, emotion):
        calls.append((float(t[0]), [round(c, 6) for c in emotion[:, 0].tolist()]))
        return linear_score(x, mu, mask, t, emotion)
    return estimator


def test_heun_calls_twice_per_step_but_the_last_with_every_row_of_the_mix_at_that_t():
    calls = []
    base = ramp_plan()
    plan = MixPlan(base.embeddings, base.weights, primary=1, secondary=0, t_max=0.8, t_min=0.3)
    sample(recording(calls), MU, MASK, plan, 4, TAU, noise=NOISE, solver="heun")
    assert calls == [(1.0, [1.5]), (0.75, [0.6, 1.5]), (0.75, [0.6, 1.5]), (0.5, [0.6, 1.5]),
                     (0.5, [0.6, 1.5]), (0.25, [0.6]), (0.25, [0.6])]


def test_heun_one_hot_mix_equals_single_emotion_run():
    torch.manual_seed(0)
    est = build_estimator("dilated1d", E, channels=16, blocks=3, cond_dim=32).eval()
    # The output layer starts at zero for training; the test needs a score that depends on its inputs.
    torch.nn.init.normal_(est.noise.weight, std=0.1)
    emb = np.random.RandomState(2).randn(3, E).astype(np.float32)
    one_hot = np.zeros((3, T), dtype=np.float32)
    one_hot[1] = 1
    mixed = sample(est, MU, MASK, MixPlan(emb, one_hot), 3, TAU, noise=NOISE, solver="heun")
    single = sample(est, MU, MASK, MixPlan(emb[[1]], np.ones((1, T), dtype=np.float32)), 3, TAU, noise=NOISE,
                    solver="heun")
    np.testing.assert_allclose(mixed, single, atol=1e-5)


def test_unknown_solver_is_refused():
    with pytest.raises(ValueError, match="solver"):
        sample(linear_score, MU, MASK, ramp_plan(), 2, TAU, noise=NOISE, solver="euler")
