import numpy as np
import onnx
import torch
from onnx import numpy_helper

from emomix.export.compress import store_weights_fp16
from emomix.export.voice import export_graph


def test_fp16_storage_halves_the_file_and_casts_back(tmp_path):
    """Structure and values here; onnxruntime-node runs such graphs in the runtime's tests
    (the shipped voice is stored this way)."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv1d(80, 256, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv1d(256, 80, 1))
    path = tmp_path / "net.onnx"
    export_graph(net, (torch.randn(1, 80, 20),), path, {"mel": {0: "B", 2: "T"}}, {"out": {0: "B", 2: "T"}})
    original = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}
    before, after = store_weights_fp16(path)
    assert after < 0.6 * before
    model = onnx.load(str(path))
    stored = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    casts = {n.output[0]: n.input[0] for n in model.graph.node if n.op_type == "Cast"}
    big = [k for k, v in original.items() if v.size >= 1024]
    assert big and set(big) == set(casts)
    for name in big:
        half = stored[casts[name]]
        assert half.dtype == np.float16
        np.testing.assert_allclose(half.astype(np.float32), original[name], rtol=1e-3, atol=1e-7)
    for name, v in original.items():
        if name not in casts:
            assert np.array_equal(stored[name], v)
