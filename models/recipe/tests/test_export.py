import onnx
import pytest
import torch

from emomix.export.estimator_matmuls import Dilated1DMatMuls
from emomix.export.voice import export_acoustic, export_ser
from emomix.networks.acoustic import AcousticModel
from emomix.networks.ser import SER


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


@pytest.mark.parametrize("preset", ["dilated1d", "unet2d"])
def test_acoustic_export_has_contract_names_and_dynamic_axes(tmp_path, preset):
    est = {"channels": 16, "blocks": 2, "cond_dim": 32} if preset == "dilated1d" else {"dim": 16}
    model = AcousticModel(30, 8, preset, encoder={"channels": 16, "layers": 1, "heads": 2, "ffn": 32,
                                                  "dp_hidden": 16}, estimator=est)
    export_acoustic(model, tmp_path)
    enc = onnx.load(tmp_path / "encoder.onnx")
    onnx.checker.check_model(enc)
    assert [i.name for i in enc.graph.input] == ["phonemes", "phoneme_lengths", "emotion"]
    assert [o.name for o in enc.graph.output] == ["mu", "log_durations"]
    assert dims(enc.graph.input[0]) == ["B", "N"] and dims(enc.graph.output[0]) == ["B", 80, "N"]
    assert enc.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    est = onnx.load(tmp_path / "estimator.onnx")
    onnx.checker.check_model(est)
    assert [i.name for i in est.graph.input] == ["x", "mu", "mask", "t", "emotion"]
    assert [o.name for o in est.graph.output] == ["score"]
    x, mask, score = dims(est.graph.input[0]), dims(est.graph.input[2]), dims(est.graph.output[0])
    assert (x[0], x[2], mask[0], mask[2], score[0], score[2]) == ("B", "T", "B", "T", "B", "T")
    assert mask[1] == 1
    assert max(op.version for op in est.opset_import if op.domain in ("", "ai.onnx")) <= 17
    dec = onnx.load(tmp_path / "decoder.onnx")
    onnx.checker.check_model(dec)
    assert [i.name for i in dec.graph.input] == ["mu", "position", "mask", "emotion"]
    assert [o.name for o in dec.graph.output] == ["prior"]
    assert [dims(i) for i in dec.graph.input] == [["B", 80, "T"], ["B", 2, "T"], ["B", 1, "T"], ["B", 8, "T"]]
    assert dims(dec.graph.output[0]) == ["B", 80, "T"]
    random_ops = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial"}
    for graph in (enc, dec, est):
        assert not random_ops & {n.op_type for n in graph.graph.node}


def test_ser_export(tmp_path):
    export_ser(SER(channels=16, embedding_dim=8).eval(), tmp_path)
    g = onnx.load(tmp_path / "ser.onnx")
    onnx.checker.check_model(g)
    assert [o.name for o in g.graph.output] == ["embedding", "logits"]
    assert dims(g.graph.input[0]) == ["B", 80, "T"] and dims(g.graph.output[0]) == ["B", 8]


def test_ser_embedding_is_bounded_and_classifies():
    torch.manual_seed(0)
    ser = SER(channels=16, embedding_dim=8, n_classes=3)
    opt = torch.optim.Adam(ser.parameters(), lr=1e-2)
    means = torch.randn(3, 80, 1)
    labels = torch.arange(3).repeat(4)
    for _ in range(40):
        mel = means[labels] + 0.3 * torch.randn(12, 80, 40) - 5
        loss = torch.nn.functional.cross_entropy(ser(mel)[1], labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    ser.eval()
    emb, logits = ser(means[labels] + 0.3 * torch.randn(12, 80, 40) - 5)
    assert emb.abs().max() < 1 and (logits.argmax(1) == labels).float().mean() > 0.9


def test_the_dilated1d_estimator_goes_out_as_matrix_products_with_the_same_scores(tmp_path):
    torch.manual_seed(3)
    model = AcousticModel(30, 8, "dilated1d", encoder={"channels": 16, "layers": 1, "heads": 2, "ffn": 32,
                                                       "dp_hidden": 16},
                          estimator={"channels": 16, "blocks": 3, "cond_dim": 32}).eval()
    torch.nn.init.normal_(model.estimator.noise.weight, std=0.3)  # zero at initialisation, which would hide a mismatch
    x, mu, t, e = torch.randn(2, 80, 40), torch.randn(2, 80, 40), torch.rand(2), torch.randn(2, 8)
    mask = torch.ones(2, 1, 40)
    mask[1, :, 29:] = 0
    with torch.no_grad():
        convolutions = model.estimator(x, mu, mask, t, e)
        products = Dilated1DMatMuls(model.estimator)(x, mu, mask, t, e)
    assert convolutions.abs().max() > 1
    assert torch.allclose(products, convolutions, atol=1e-5, rtol=1e-5)
    export_acoustic(model, tmp_path)
    ops = {n.op_type for n in onnx.load(tmp_path / "estimator.onnx").graph.node}
    assert "MatMul" in ops and "Conv" not in ops
    export_acoustic(model, tmp_path, matmuls=False)
    ops = {n.op_type for n in onnx.load(tmp_path / "estimator.onnx").graph.node}
    assert "Conv" in ops and "MatMul" not in ops
