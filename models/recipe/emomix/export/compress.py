"""Halves a graph's size on disk: float32 weights are stored as float16 and cast
back to float32 by a Cast node that onnxruntime folds when it loads the session,
so inference still runs in float32. Weight rounding is ~5e-4 relative."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

MIN_ELEMENTS = 1024  # small tensors (biases, norms, shapes) are left as they are


def store_weights_fp16(path: Path) -> tuple[int, int]:
    """Rewrites the graph in place; returns (bytes before, bytes after)."""
    before = Path(path).stat().st_size
    model = onnx.load(str(path))
    graph = model.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(init)
        if values.size < MIN_ELEMENTS or np.abs(values).max() > 6e4:
            continue
        name = init.name
        half = numpy_helper.from_array(values.astype(np.float16), name + "__fp16")
        init.CopyFrom(half)
        casts.append(helper.make_node("Cast", [name + "__fp16"], [name], to=onnx.TensorProto.FLOAT,
                                      name=name + "__cast"))
    for node in reversed(casts):
        graph.node.insert(0, node)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return before, Path(path).stat().st_size
