import pytest
import torch

from emomix.training.loop import MixedPrecision, prefetch


def test_prefetch_yields_in_order_and_stops_when_left_early():
    assert list(prefetch(range(7), lambda b: b * b)) == [0, 1, 4, 9, 16, 25, 36]
    made = []
    for x in prefetch(range(1000), lambda b: made.append(b) or b, depth=2):
        if x == 3:
            break
    # The producer stopped a few batches ahead instead of building all 1000.
    assert len(made) < 10


def test_prefetch_hands_the_producers_error_to_the_consumer():
    def make(b):
        if b == 2:
            raise ValueError("bad batch")
        return b

    with pytest.raises(ValueError, match="bad batch"):
        list(prefetch(range(5), make))


def test_mixed_precision_is_a_plain_step_on_the_cpu():
    precision = MixedPrecision(torch.device("cpu"))
    assert not precision.enabled
    w = torch.nn.Parameter(torch.tensor([2.0]))
    opt = torch.optim.SGD([w], lr=0.1)
    with precision.autocast():
        loss = (w ** 2).sum()
    assert loss.dtype == torch.float32
    precision.step(loss, opt, [w], clip=10.0)
    assert torch.allclose(w.detach(), torch.tensor([1.6]))
