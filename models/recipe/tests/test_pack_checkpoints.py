"""Packed checkpoints: small, optimizer-free, and a run resumes from them."""
import torch

from emomix.training.checkpoints import load_checkpoint
from emomix.training.pack_checkpoints import pack


def test_pack_halves_weights_drops_optimizer_and_resumes(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 8))
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 64)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    src, dst = tmp_path / "full.pt", tmp_path / "packed.pt"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "step": 77,
                "config": {"width": 64}}, src)
    pack(src, dst)
    packed = torch.load(dst)
    assert "opt" not in packed and packed["step"] == 77 and packed["config"] == {"width": 64}
    assert all(v.dtype == torch.float16 for v in packed["model"].values())
    assert dst.stat().st_size < src.stat().st_size / 3

    fresh = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 8))
    fresh_opt = torch.optim.Adam(fresh.parameters())
    step = load_checkpoint(dst, {"model": fresh, "opt": fresh_opt})
    assert step == 77
    for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
        assert b.dtype == torch.float32
        assert torch.allclose(a, b, atol=1e-3, rtol=1e-3)
    assert fresh_opt.state_dict()["state"] == {}
