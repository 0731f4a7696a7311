"""What every training loop shares: thread/device setup, stopping on a signal between
steps, progress lines, mixed precision and batches built ahead in a thread."""
from __future__ import annotations

import signal
import time

import torch


def setup(threads: int, device: str, seed: int = 0) -> torch.device:
    if threads > 0:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    return torch.device(device)


class Stopper:
    """Turns SIGTERM/SIGINT into a flag checked between steps, so a run ends on a checkpoint."""

    def __init__(self):
        self.stop = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, *_):
        self.stop = True


class Progress:
    def __init__(self, name: str, total: int, start: int, every: int = 50):
        self.name, self.total, self.every = name, total, every
        self.t0, self.s0 = time.time(), start
        self.sums: dict[str, float] = {}
        self.n = 0

    def update(self, step: int, **losses: float) -> None:
        for k, v in losses.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v)
        self.n += 1
        if step % self.every == 0 or step == self.total:
            rate = (step - self.s0) / max(time.time() - self.t0, 1e-9)
            eta = (self.total - step) / max(rate, 1e-9)
            avg = " ".join(f"{k} {v / self.n:.4f}" for k, v in self.sums.items())
            print(f"{self.name} step {step}/{self.total} {avg} | {rate:.2f} steps/s, eta {eta / 60:.0f} min",
                  flush=True)
            self.sums, self.n = {}, 0


class MixedPrecision:
    """Autocast and loss scaling for CUDA: bfloat16 where the GPU has it (no scaling
    needed), float16 with a gradient scaler otherwise; a no-op on the CPU, whose float16
    kernels are slower than float32."""

    def __init__(self, device: torch.device, enabled: bool = True):
        self.enabled = enabled and device.type == "cuda"
        # (CPU autocast accepts only bfloat16, even when disabled.)
        self.dtype = torch.float16 if self.enabled and not torch.cuda.is_bf16_supported() else torch.bfloat16
        self.scaler = torch.cuda.amp.GradScaler(enabled=self.enabled and self.dtype == torch.float16)
        self.device_type = device.type

    def autocast(self):
        return torch.autocast(device_type=self.device_type, dtype=self.dtype, enabled=self.enabled)

    def step(self, loss: torch.Tensor, opt: torch.optim.Optimizer, params, clip: float = 1.0) -> None:
        """Backward, unscale, clip the gradient norm, optimizer step."""
        opt.zero_grad()
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(params, clip)
        self.scaler.step(opt)
        self.scaler.update()


def prefetch(batches, make, depth: int = 2):
    """Yields make(b) for every b, built `depth` ahead in a background thread, so that
    padding and host-to-device copies overlap the GPU's work on the previous batch. Leaving
    the loop early stops the thread (a thread left blocked would abort the interpreter's exit)."""
    import queue
    import threading
    q: queue.Queue = queue.Queue(depth)
    stop, done = threading.Event(), object()

    def fill():
        try:
            for b in batches:
                if stop.is_set():
                    return
                q.put(make(b))
        except BaseException as e:  # handed to the consumer, which would otherwise wait forever
            q.put(e)
        q.put(done)

    worker = threading.Thread(target=fill, daemon=True)
    worker.start()
    try:
        while (item := q.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                q.get(timeout=0.1)
            except queue.Empty:
                pass
