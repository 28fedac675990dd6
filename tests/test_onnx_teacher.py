"""An ONNX detector as a training teacher (models/onnx_teacher.py): the graph run by torch must
give what ONNX Runtime gives, in the teacher's own input convention, and train with --teacher."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from models.config import IMAGENET_MEAN, IMAGENET_STD
from models.onnx_teacher import OnnxTeacher

PEER_DET = sorted(Path(".venv-peer").glob("lib/python3*/site-packages/rapidocr_onnxruntime/models/"
                                          "ch_PP-OCRv4_det_infer.onnx"))


def _const(nodes: list, name: str, value: np.ndarray) -> str:
    """A Constant node, the way Paddle's exporter writes weights (not initializers)."""
    nodes.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(
        np.asarray(value, np.float32), name)))
    return name


def _db_like_model(path: Path, extra_op: str | None = None, two_outputs: bool = False) -> Path:
    """A small DB-style detector with every operator PP-OCRv4's detector uses: a stride-2 conv
    stem with BatchNorm, a hard-swish (Add, Clip, Mul, Div), a squeeze-excite gate (Global
    average pool, Relu, HardSigmoid), a nearest upsample, a concat and a deconvolution back to
    the input's size, then a sigmoid: (N, 1, H, W) probabilities."""
    rng = np.random.default_rng(0)
    n: list = []
    w = lambda *shape: rng.normal(0, 0.3, shape).astype(np.float32)
    n.append(helper.make_node("Conv", ["x", _const(n, "w0", w(8, 3, 3, 3)), _const(n, "b0", w(8))], ["c0"],
                              kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    n.append(helper.make_node("BatchNormalization", ["c0", _const(n, "g", 1 + w(8)), _const(n, "beta", w(8)),
                                                     _const(n, "mu", w(8)), _const(n, "var", 1 + np.abs(w(8)))],
                              ["bn"], epsilon=1e-5))
    n.append(helper.make_node("Add", ["bn", _const(n, "three", np.float32(3))], ["p3"]))
    n.append(helper.make_node("Clip", ["p3", _const(n, "zero", np.float32(0)), _const(n, "six", np.float32(6))],
                              ["cl"]))
    n.append(helper.make_node("Mul", ["bn", "cl"], ["m"]))
    n.append(helper.make_node("Div", ["m", "six"], ["hs"]))
    n.append(helper.make_node("GlobalAveragePool", ["hs"], ["gap"]))
    n.append(helper.make_node("Conv", ["gap", _const(n, "w1", w(8, 8, 1, 1))], ["se"], kernel_shape=[1, 1]))
    n.append(helper.make_node("Relu", ["se"], ["ser"]))
    n.append(helper.make_node("HardSigmoid", ["ser"], ["gate"], alpha=0.2, beta=0.5))
    n.append(helper.make_node("Mul", ["hs", "gate"], ["f"]))
    n.append(helper.make_node("Conv", ["f", _const(n, "w2", w(8, 8, 3, 3))], ["d"], kernel_shape=[3, 3],
                              strides=[2, 2], pads=[1, 1, 1, 1]))
    n.append(helper.make_node("Resize", ["d", _const(n, "roi", np.zeros(0)), _const(n, "sc", [1, 1, 2, 2])],
                              ["up"], mode="nearest", coordinate_transformation_mode="asymmetric",
                              nearest_mode="floor"))
    n.append(helper.make_node("Concat", ["f", "up"], ["cat"], axis=1))
    n.append(helper.make_node("ConvTranspose", ["cat", _const(n, "wt", w(16, 1, 2, 2)), _const(n, "bt", w(1))],
                              ["logit"], kernel_shape=[2, 2], strides=[2, 2]))
    n.append(helper.make_node("Sigmoid", ["logit"], ["prob"]))
    outputs = [helper.make_tensor_value_info("prob", TensorProto.FLOAT, None)]
    if extra_op:
        n.append(helper.make_node(extra_op, ["prob"], ["extra"]))
        outputs = [helper.make_tensor_value_info("extra", TensorProto.FLOAT, None)]
    if two_outputs:
        outputs.append(helper.make_tensor_value_info("cat", TensorProto.FLOAT, None))
    graph = helper.make_graph(n, "db_like", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                          ["n", 3, "h", "w"])], outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _ours(image_rgb: np.ndarray) -> torch.Tensor:
    """A uint8 RGB image as our training batches hold it (ImageNet mean and std)."""
    x = (image_rgb.astype(np.float32) / 255 - np.asarray(IMAGENET_MEAN, np.float32)) / np.asarray(IMAGENET_STD,
                                                                                             np.float32)
    return torch.from_numpy(x.transpose(2, 0, 1)[None].copy())


def _theirs(image_rgb: np.ndarray) -> np.ndarray:
    """The same image as rapidocr-onnxruntime feeds PP-OCRv4's detector: BGR, scaled to [-1, 1]."""
    return ((image_rgb[:, :, ::-1].astype(np.float32) / 255 - 0.5) / 0.5).transpose(2, 0, 1)[None].copy()


def test_the_teacher_graph_gives_what_onnx_runtime_gives_in_its_own_input_convention(tmp_path):
    path = _db_like_model(tmp_path / "t.onnx")
    image = np.random.default_rng(1).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": _theirs(image)})[0]
    teacher = OnnxTeacher(path)
    got = teacher(_ours(image))
    assert got.shape == (1, 1, 64, 96) and ref.shape == (1, 1, 64, 96)
    assert np.abs(got.numpy() - ref).max() < 1e-5
    assert not any(p.requires_grad for p in teacher.parameters()) and not teacher.training
    # the channel order matters: the same pixels fed as RGB give another map
    wrong = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": _theirs(image[:, :, ::-1])})[0]
    assert np.abs(wrong - ref).max() > 1e-3
    # inside a bf16 training step the teacher still runs in fp32
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert np.abs(teacher(_ours(image)).float().numpy() - ref).max() < 1e-5


def test_a_teacher_file_it_cannot_run_is_refused_when_loaded(tmp_path):
    with pytest.raises(ValueError, match="operators a teacher cannot run: Softmax"):
        OnnxTeacher(_db_like_model(tmp_path / "a.onnx", extra_op="Softmax"))
    with pytest.raises(ValueError, match="one image input and one probability-map output"):
        OnnxTeacher(_db_like_model(tmp_path / "b.onnx", two_outputs=True))
    (tmp_path / "c.onnx").write_bytes(b"not onnx")
    with pytest.raises(ValueError, match="not a readable ONNX file"):
        OnnxTeacher(tmp_path / "c.onnx")


def test_word_joint_training_learns_an_onnx_teachers_map_too(tiny_set, tmp_path, random_weights):
    """--teacher FILE.onnx with --word-joint: the distillation term reaches the line map."""
    from models.train import TrainConfig, Trainer

    mix = tmp_path / "mix.toml"
    mix.write_text(f'[[source]]\nname = "scenes"\npath = "{tiny_set}"\ngranularity = "words"\n')
    cfg = TrainConfig(data=str(mix), workdir=str(tmp_path / "run"), batch_size=2, input_size=128,
                      optimizer="adam", lr=1e-3, workers=0, checkpoint_every=2, eval_limit=1, max_steps=2,
                      eval_every=100, init_weights=str(random_weights), word_joint=True,
                      teacher=str(_db_like_model(tmp_path / "t.onnx")), teacher_weight=0.5)
    t = Trainer(cfg)
    assert isinstance(t.teacher, OnnxTeacher) and any("distilling" in n for n in t.notes)
    t.fit()
    steps = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    steps = [e for e in steps if e.get("type") == "step"]
    assert steps and all(e["distill"] > 0 and "word_prob" in e for e in steps)


@pytest.mark.skipif(not PEER_DET, reason="PP-OCRv4's detector comes with .venv-peer (README, benchmarks)")
def test_pp_ocrv4s_detector_runs_as_a_teacher_as_onnx_runtime_runs_it():
    image = np.random.default_rng(2).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    image[30:60, 20:110] = 255
    image[40:50, 30:100] = 0
    ref = ort.InferenceSession(str(PEER_DET[0]), providers=["CPUExecutionProvider"]).run(
        None, {"x": _theirs(image)})[0]
    assert np.abs(OnnxTeacher(PEER_DET[0])(_ours(image)).numpy() - ref).max() < 1e-4
