"""Speech as a client of the running server hears it, for `evaluate`.

`emomix synth` calls the runtime directly, one whole sentence per request. A user's text
goes another way: the server's segmenter cuts it into phrases, each phrase is synthesized
with a seed drawn from the session's, and the audio crosses the wire as Opus at the
server's bitrate. This starts the server on the voice's folder and speaks each sentence
with `emomix say` (one WebSocket session per sentence, the text sent whole, the Opus
packets decoded to a 48 kHz WAV), so WER measured on its output includes all of that.
"""
from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .. import frontend

START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerPath:
    """A server on 127.0.0.1 serving `voice` (a folder with voice.json), stopped on exit."""

    def __init__(self, voice: Path, steps: int | None = None):
        self.voice, self.steps, self.port = voice.resolve(), steps, free_port()
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "ServerPath":
        cmd = frontend.node_cli("serve") + ["--host", "127.0.0.1", "--port", str(self.port),
                                            "--models", str(self.voice.parent), "--voice", self.voice.name,
                                            "--log-level", "warn"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + START_TIMEOUT_S
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}): {self.proc.stderr.read().strip()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"server not healthy within {START_TIMEOUT_S} s")

    def __exit__(self, *_) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def say(self, text: str, out: Path, seed: int, weights: dict[str, float] | None = None) -> Path:
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = frontend.node_cli("say") + ["--url", f"ws://127.0.0.1:{self.port}/v1/stream", "--seed", str(seed),
                                          "--out", str(out), "--quiet"]
        if self.steps is not None:
            cmd += ["--steps", str(self.steps)]
        if weights:
            cmd += ["--emotion", ",".join(f"{k}={v}" for k, v in weights.items())]
        done = subprocess.run(cmd + ["--", text], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"emomix say failed ({done.returncode}) on {text!r}: {done.stderr.strip()}")
        return out

    def say_all(self, texts: list[str], folder: Path, seed: int, jobs: int) -> list[Path]:
        """Every text in its own session, seeded per sentence, in order."""
        with ThreadPoolExecutor(jobs) as pool:
            return list(pool.map(lambda it: self.say(it[1], folder / f"{it[0]:03d}.wav", seed * 1000 + it[0]),
                                 enumerate(texts)))
