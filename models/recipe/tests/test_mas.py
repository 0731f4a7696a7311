import numpy as np
import torch

from emomix.networks.mas import log_likelihood, mas_durations, maximum_path


def reference_path(log_p: np.ndarray, n: int, t: int) -> list[int]:
    """The textbook dynamic programme, one cell at a time: frames per phoneme."""
    v = np.full((n, t), -np.inf)
    v[0, 0] = log_p[0, 0]
    for j in range(1, t):
        for i in range(min(n, j + 1)):
            stay = v[i, j - 1]
            move = v[i - 1, j - 1] if i else -np.inf
            v[i, j] = max(stay, move) + log_p[i, j]
    durs, i = [0] * n, n - 1
    for j in range(t - 1, -1, -1):
        durs[i] += 1
        if j and i and v[i - 1, j - 1] > v[i, j - 1]:
            i -= 1
    return durs


def test_batched_search_matches_the_textbook_programme_with_padding():
    rng = np.random.RandomState(0)
    lengths = [(5, 17), (3, 3), (7, 30), (1, 9)]
    log_p = rng.randn(len(lengths), 7, 30).astype(np.float32) * 4
    path = maximum_path(torch.from_numpy(log_p), torch.tensor([n for n, _ in lengths]),
                        torch.tensor([t for _, t in lengths]))
    for b, (n, t) in enumerate(lengths):
        assert path[b].sum(1)[:n].long().tolist() == reference_path(log_p[b, :n, :t], n, t)
        # Nothing outside the utterance, every frame of it on exactly one phoneme, in order.
        assert path[b, n:].sum() == 0 and path[b, :, t:].sum() == 0
        assert path[b, :, :t].sum(0).tolist() == [1.0] * t
        owner = path[b, :n, :t].argmax(0)
        assert torch.all(owner[1:] - owner[:-1] >= 0) and owner[0] == 0 and owner[-1] == n - 1


def test_durations_come_back_from_a_mel_made_of_the_phoneme_means():
    torch.manual_seed(0)
    truth = torch.tensor([[3, 1, 6, 2, 4, 5], [2, 2, 7, 1, 3, 0]])
    mu = torch.randn(2, 80, 6) * 0.5
    mu[1, :, 5] = 0
    t = int(truth.sum(1).max())
    mel = torch.zeros(2, 80, t)
    for b in range(2):
        d = truth[b][truth[b] > 0]
        frames = mu[b, :, : len(d)].repeat_interleave(d, dim=1)
        mel[b, :, : frames.shape[1]] = frames + 0.3 * torch.randn_like(frames)
    found = mas_durations(mu, mel, torch.tensor([6, 5]), truth.sum(1))
    assert found.tolist() == truth.tolist()


def test_log_likelihood_is_the_gaussian_density_per_frame():
    mu, mel = torch.randn(1, 80, 3), torch.randn(1, 80, 4)
    want = torch.distributions.Normal(mu[0, :, 1], 1.0).log_prob(mel[0, :, 2]).sum()
    torch.testing.assert_close(log_likelihood(mu, mel)[0, 1, 2], want, rtol=1e-5, atol=1e-3)


def test_boundary_errors_compare_inner_phoneme_ends():
    from emomix.evaluation.alignment_accuracy import boundary_errors
    assert boundary_errors(np.array([2, 3, 4]), np.array([3, 3, 3])).tolist() == [1, 1]
