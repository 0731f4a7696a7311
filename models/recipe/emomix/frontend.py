"""The TypeScript front end, called as a subprocess so that training and serving
produce identical phoneme IDs for the same text."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def node_cli(command: str) -> list[str]:
    """An `emomix` subcommand run from the TypeScript sources through tsx, not dist/: a stale
    build would give training other IDs than serving, or evaluate another runtime."""
    return ["node", "--import", "tsx", str(REPO / "src" / "cli" / "main.ts"), command]


CLI = node_cli("phonemize")


def symbols() -> list[str]:
    out = subprocess.run(CLI + ["--symbols"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def phonemize(texts: list[str]) -> list[dict]:
    """One record {ids, symbols, words} per text, in order."""
    payload = "".join(t.replace("\n", " ") + "\n" for t in texts)
    out = subprocess.run(CLI + ["--jsonl"], input=payload, check=True, capture_output=True, text=True)
    recs = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    if len(recs) != len(texts):
        raise RuntimeError(f"front end returned {len(recs)} records for {len(texts)} texts")
    return recs
