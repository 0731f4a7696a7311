#!/usr/bin/env python3
"""Gives the vocoder graphs of a voice exported before December 2026 the recipe's folded inverse STFT.

    /usr/bin/python3 scripts/factorize-istft.py models/slt-emo

Those graphs end in one dense inverse DFT, a ConvTranspose of [n_fft + 2, n_fft] per frame
(and a second one for the window's envelope), which took a third of the vocoder's CPU time.
The recipe's InverseSTFT (models/recipe/emomix/networks/vocoder.py) now computes the same
function in four products a quarter that size. This script exports that module for the
voice's n_fft and hop and puts it in place of the old nodes (those named /istft/…) of the
voice's vocoder graph and of its float original beside it (vocoder.onnx, vocoder.int8.onnx):
the same inputs, outputs and weights, so the voice contract and voice.json are unchanged and
the audio is the same to float rounding (test/factorize-istft.test.ts). A graph already in
the folded form is left as it is.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path

import onnx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "models" / "recipe"))
from emomix.networks.vocoder import InverseSTFT  # noqa: E402

PREFIX = "/istft/"
OPSET = 17


def folded_istft(n_fft: int, hop: int) -> onnx.GraphProto:
    """The recipe's InverseSTFT as a graph: `real`, `imag` [B, n_fft/2+1, T] → `audio` [B, T·hop]."""
    spectrum = torch.zeros(1, n_fft // 2 + 1, 8)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        # torch's exporter warns about its own shape inference; the graph is checked below.
        warnings.simplefilter("ignore")
        path = Path(tmp) / "istft.onnx"
        frames = {0: "batch", 2: "frames"}
        torch.onnx.export(InverseSTFT(n_fft, hop).eval(), (spectrum, spectrum), str(path), opset_version=OPSET,
                          input_names=["real", "imag"], output_names=["audio"],
                          dynamic_axes={"real": frames, "imag": frames, "audio": {0: "batch", 1: "samples"}})
        return onnx.load(str(path)).graph


def factorize(model: onnx.ModelProto, n_fft: int, hop: int) -> bool:
    """Replaces the dense inverse STFT in place; False when there is none."""
    graph = model.graph
    old = [n for n in graph.node if n.name.startswith(PREFIX)]
    if not any(n.op_type == "ConvTranspose" for n in old):
        return False
    inside = {t for n in old for t in n.output}
    # The spectrum enters as one concatenation of the real and imaginary parts.
    (concat,) = [n for n in old if n.op_type == "Concat" and not inside.intersection(n.input)]
    real, imag = concat.input
    output = graph.output[0].name
    if output not in inside:
        raise ValueError(f"the graph's output {output} does not come from its {PREFIX} nodes")

    new = folded_istft(n_fft, hop)
    outer = {new.input[0].name: real, new.input[1].name: imag, new.output[0].name: output}
    rename = lambda name: outer.get(name) or (PREFIX + name.lstrip("/") if name else name)  # noqa: E731
    for node in old:
        graph.node.remove(node)
    for node in new.node:
        node.name = PREFIX + node.name.lstrip("/")
        node.input[:] = [rename(t) for t in node.input]
        node.output[:] = [rename(t) for t in node.output]
        graph.node.append(node)
    for initializer in new.initializer:
        initializer.name = rename(initializer.name)
        graph.initializer.append(initializer)
    prune(graph)
    onnx.checker.check_model(model)
    return True


def prune(graph: onnx.GraphProto) -> None:
    """Drops what fed only the old nodes: the dense kernel and the window, and the Casts that widened them from float16."""
    outputs = {o.name for o in graph.output}
    while True:
        used = {t for n in graph.node for t in n.input} | outputs
        dead = [n for n in graph.node if not used.intersection(n.output)]
        if not dead:
            break
        for node in dead:
            graph.node.remove(node)
    for initializer in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(initializer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("voice", type=Path, help="voice folder holding voice.json")
    args = parser.parse_args()
    manifest = json.loads((args.voice / "voice.json").read_text())
    mel = manifest["mel"]
    loaded = args.voice / manifest["files"]["vocoder"]
    graphs = sorted({loaded, loaded.with_name("vocoder.onnx")})
    for path in [p for p in graphs if p.exists()]:
        model = onnx.load(str(path))
        if factorize(model, mel["nFft"], mel["hopLength"]):
            onnx.save(model, str(path))
            print(f"{path}: inverse STFT folded")
        else:
            print(f"{path}: already folded")


if __name__ == "__main__":
    main()
