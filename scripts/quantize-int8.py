#!/usr/bin/env python3
"""Dynamic int8 quantization of a voice's vocoder and estimator, with Debian's python3-onnx alone.

    /usr/bin/python3 scripts/quantize-int8.py models/slt-emo

onnxruntime's own quantizer (onnxruntime.quantization) needs the onnxruntime wheel from
PyPI; this writes the graph it would write for MatMul by hand. Every MatMul whose
weight is a constant matrix (stored float32, or float16 behind a Cast) becomes

    DynamicQuantizeLinear(A) -> MatMulInteger(A_u8, W_s8) -> Cast -> Mul(a_scale * w_scale)

with W quantized symmetrically per output column. onnxruntime fuses that chain into one
DynamicQuantizeMatMul kernel (u8 x s8, VNNI where the CPU has it). The graph keeps its
inputs and outputs, so the voice contract holds; the script writes `vocoder.int8.onnx`
and `estimator.int8.onnx` beside the float graphs and points `files.vocoder` and
`files.estimator` of voice.json at them. Run it again after every export, which rewrites
voice.json.

MatMuls only: they run about twice as fast in int8 here (docs/benchmarks.md), while
onnxruntime's CPU ConvInteger kernel was five times slower than its float Conv. The
vocoder's ConvNeXt blocks are MatMuls; the dilated1d estimator is exported as MatMuls
(models/recipe/emomix/export/estimator_matmuls.py). A graph without such MatMuls (an
estimator exported before that, or another preset) is left as it is.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def constant_matrix(graph: onnx.GraphProto, name: str) -> np.ndarray | None:
    """The float32 value of `name` when it is a 2-D initializer, directly or through a Cast."""
    initializers = {i.name: i for i in graph.initializer}
    if name not in initializers:
        producer = next((n for n in graph.node if name in n.output), None)
        if producer is None or producer.op_type != "Cast" or producer.input[0] not in initializers:
            return None
        name = producer.input[0]
    value = numpy_helper.to_array(initializers[name]).astype(np.float32)
    return value if value.ndim == 2 else None


def quantize_matmuls(model: onnx.ModelProto) -> int:
    graph = model.graph
    nodes, added, count = [], [], 0
    for node in graph.node:
        weight = constant_matrix(graph, node.input[1]) if node.op_type == "MatMul" else None
        if weight is None:
            nodes.append(node)
            continue
        count += 1
        k = f"{node.name or node.output[0]}_int8"
        scale = np.maximum(np.abs(weight).max(axis=0), 1e-12) / 127.0
        quantized = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        added += [
            numpy_helper.from_array(quantized, f"{k}/w"),
            numpy_helper.from_array(np.zeros(weight.shape[1], np.int8), f"{k}/w_zero"),
            numpy_helper.from_array(scale.astype(np.float32), f"{k}/w_scale"),
        ]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [node.input[0]], [f"{k}/a", f"{k}/a_scale", f"{k}/a_zero"]),
            helper.make_node("MatMulInteger", [f"{k}/a", f"{k}/w", f"{k}/a_zero", f"{k}/w_zero"], [f"{k}/y"]),
            helper.make_node("Cast", [f"{k}/y"], [f"{k}/y_float"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [f"{k}/a_scale", f"{k}/w_scale"], [f"{k}/scale"]),
            helper.make_node("Mul", [f"{k}/y_float", f"{k}/scale"], list(node.output)),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(added)
    prune(graph)
    return count


def prune(graph: onnx.GraphProto) -> None:
    """Drops the Casts and initializers that only fed the replaced float weights."""
    outputs = {o.name for o in graph.output}
    used = {i for n in graph.node for i in n.input}
    for node in [n for n in graph.node if n.op_type == "Cast" and not any(o in used or o in outputs for o in n.output)]:
        graph.node.remove(node)
    used = {i for n in graph.node for i in n.input}
    for initializer in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(initializer)


GRAPHS = ("vocoder", "estimator")


def quantize_graph(voice: Path, manifest: dict, graph: str) -> str:
    source = voice / manifest["files"][graph]
    if source.name.endswith(".int8.onnx"):
        return f"{source} is already quantized"
    model = onnx.load(str(source))
    count = quantize_matmuls(model)
    if count == 0:
        return f"{source}: no MatMul with a constant weight; left in float"
    onnx.checker.check_model(model)
    target = source.with_name(source.name.removesuffix(".onnx") + ".int8.onnx")
    onnx.save(model, str(target))
    manifest["files"][graph] = target.name
    return f"{target}: {count} MatMuls in int8"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("voice", type=Path, help="voice folder holding voice.json")
    args = parser.parse_args()
    manifest_path = args.voice / "voice.json"
    manifest = json.loads(manifest_path.read_text())
    for graph in GRAPHS:
        print(quantize_graph(args.voice, manifest, graph))
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
