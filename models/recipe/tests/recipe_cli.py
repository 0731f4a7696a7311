"""Runs recipe commands as a user would, for the end-to-end tests."""
import subprocess
import sys
from pathlib import Path

RECIPE = Path(__file__).resolve().parents[1]


def emomix(*args: str) -> str:
    """`python -m emomix ARGS` from the recipe folder; its stdout, or a failure with both streams."""
    out = subprocess.run([sys.executable, "-m", "emomix", *args], cwd=RECIPE, capture_output=True, text=True)
    assert out.returncode == 0, f"emomix {args[0]} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout
