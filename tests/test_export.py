"""ONNX export: shapes, parity with PyTorch, metadata, the ONNX backend, int8, the CLI.

Exports run at 320x320 with 3 verification pages (and 2 calibration pages for int8) from
the random-weight model, so the whole file stays within about a minute on one core.
"""
from __future__ import annotations

import json

import cv2
import numpy as np
import onnx
import pytest

from models.config import DetectorConfig
from models.export.config import INT8_MIN_LOGIT_CORR, TOLERANCE, ExportConfig, check_size
from models.export.exporter import ExportVerificationError, export_onnx
from models.export.metadata import parse_metadata
from models.export.samples import STYLES, render_pages
from models.preprocess import prepare
from models.weights import weights_id

S = 320


def _export(tmp_path_factory, weights, **kw):
    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    cfg = ExportConfig(height=S, width=S, output=out, weights=weights, verify_images=3,
                       calibration_images=2, **kw)
    return export_onnx(cfg)


@pytest.fixture(scope="module")
def fixed_fp32(tmp_path_factory, random_weights):
    return _export(tmp_path_factory, random_weights)


@pytest.fixture(scope="module")
def dynamic_fp32(tmp_path_factory, random_weights):
    return _export(tmp_path_factory, random_weights, dynamic=True)


# ---------------------------------------------------------------------------- sizes and config
@pytest.mark.parametrize("h,w", [(319, 320), (320, 300), (288, 320), (1568, 320), (800, 810), (0, 320)])
def test_bad_sizes_are_rejected_with_a_reason(h, w):
    with pytest.raises(ValueError, match="multiple of 32 between 320 and 1536"):
        ExportConfig(height=h, width=w)


def test_size_message_suggests_neighbours():
    with pytest.raises(ValueError, match="nearest allowed: 800 or 832"):
        check_size("width", 810)


@pytest.mark.parametrize("kw", [dict(precision="int4"), dict(opset=13), dict(verify_images=1),
                                dict(int8_check="maybe"), dict(precision="int8", calibration_images=0)])
def test_bad_options_are_rejected(kw):
    with pytest.raises(ValueError):
        ExportConfig(**kw)


def test_default_output_name():
    assert ExportConfig(height=800, width=800).output_path.name == "model_800x800.onnx"
    assert ExportConfig(height=640, width=960, dynamic=True, precision="int8").output_path.name == \
        "model_640x960_dynamic_int8.onnx"


def test_rendered_pages_cover_the_styles_and_are_reproducible():
    pages = render_pages(3, seed=4, size=(S, S))
    assert {p.style for p in pages} == set(STYLES)
    assert all(len(p.boxes) > 0 and p.image.dtype == np.uint8 for p in pages)
    again = render_pages(3, seed=4, size=(S, S))
    assert all(np.array_equal(a.image, b.image) for a, b in zip(pages, again))


# ---------------------------------------------------------------------------- fixed and dynamic
def test_fixed_export_graph_and_parity(fixed_fp32):
    r = fixed_fp32
    assert r.passed and r.path.is_file() and r.max_abs_diff <= TOLERANCE["fp32"]
    assert r.input_shape == ("N", 3, S, S)
    model = onnx.load(str(r.path))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version >= 17
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == "images" and out.name == "prob"
    dims = [d.dim_value or d.dim_param for d in inp.type.tensor_type.shape.dim]
    assert dims == ["batch", 3, S, S]
    assert [d.dim_value or d.dim_param for d in out.type.tensor_type.shape.dim] == ["batch", 1, S, S]
    ops = {n.op_type for n in model.graph.node}
    assert "BatchNormalization" not in ops          # folded into the convolutions
    assert not list(r.path.parent.glob("*.partial"))
    assert "PASSED" in r.summary() and "max |p_fp32 - p_torch|" in r.summary()


def test_dynamic_export_runs_other_shapes(dynamic_fp32, random_weights):
    import onnxruntime as ort
    import torch

    from models.weights import load_model

    r = dynamic_fp32
    assert r.passed and r.dynamic and r.input_shape == ("N", 3, "H", "W")
    sess = ort.InferenceSession(str(r.path), providers=["CPUExecutionProvider"])
    net, _ = load_model(random_weights)
    x = np.random.default_rng(0).normal(size=(2, 3, 384, 448)).astype(np.float32)
    with torch.inference_mode():
        ref = net(torch.from_numpy(x)).numpy()
    got = sess.run(None, {"images": x})[0]
    assert got.shape == (2, 1, 384, 448)
    assert np.abs(got - ref).max() <= TOLERANCE["fp32"]


def test_metadata_round_trip(fixed_fp32, random_weights):
    model = onnx.load(str(fixed_fp32.path))
    meta = {p.key: p.value for p in model.metadata_props}
    info = parse_metadata(meta)
    assert info.ours and info.precision == "fp32" and info.dynamic is False
    assert info.weights_id == weights_id(random_weights)
    assert info.config() == DetectorConfig()
    assert info.mean == DetectorConfig().mean and info.std == DetectorConfig().std
    assert info.verification == "passed"
    policy = json.loads(meta["size_policy"])
    assert policy["mode"] == "fixed" and (policy["height"], policy["width"]) == (S, S)
    report = json.loads(meta["verification_report"])
    assert all(v["passed"] for v in report.values())
    # No local source paths or FX dumps leak into the shipped file.
    assert not any(p.key == "pkg.torch.onnx.stack_trace" for n in model.graph.node for p in n.metadata_props)


# ---------------------------------------------------------------------------- the ONNX backend
def _thresholds(det, image):
    """Thresholds that make the random model produce boxes (its map is ~0.01 everywhere)."""
    x, _ = prepare(image, det.config, det.backend.fixed_shape)
    prob = det.backend.run(x[None])[0]
    # the quantiles are the cut itself: no lines_shift on top
    return dict(thresh=float(np.quantile(prob, 0.93)), box_thresh=float(np.quantile(prob, 0.85)), lines_shift=0.0)


@pytest.mark.parametrize("which", ["fixed", "dynamic"])
def test_onnx_backend_boxes_equal_torch_boxes(which, fixed_fp32, dynamic_fp32, random_detector):
    from models import TextDetector

    report = fixed_fp32 if which == "fixed" else dynamic_fp32
    det = TextDetector(backend="onnx", model=report.path, device="cpu")
    assert det.backend.name == "onnx" and det.backend.provider == "CPUExecutionProvider"
    assert det.backend.fixed_shape == ((S, S) if which == "fixed" else None)
    assert det.model_id.startswith(weights_id(random_detector.weights_path) + "-onnx-fp32-")
    total = 0
    for page in render_pages(3, seed=11, size=(S, S)):
        image = page.image
        if which == "fixed":   # same padded input for both backends: exactly the fixed shape
            image = cv2.resize(image, (S, S), interpolation=cv2.INTER_AREA)
        kw = _thresholds(random_detector, image)
        if which == "fixed":   # and not enlarged by PyTorch's size policy (min_long_ratio)
            kw["min_long_ratio"] = 0.0
        a, b = random_detector.detect(image, **kw), det.detect(image, **kw)
        assert np.array_equal(a.boxes, b.boxes) and np.allclose(a.scores, b.scores, atol=1e-4)
        total += len(a.boxes)
    assert total > 0


def test_fixed_shape_model_pads_instead_of_stretching(fixed_fp32):
    from models import TextDetector

    det = TextDetector(backend="onnx", model=fixed_fp32.path, device="cpu")
    wide = np.full((100, 640, 3), 230, np.uint8)
    r = det.detect(wide)
    assert (r.width, r.height) == (640, 100)
    x, info = prepare(wide, det.config, det.backend.fixed_shape)
    assert x.shape == (3, S, S) and (info.resized_h, info.resized_w) == (50, 320)   # aspect kept
    with pytest.raises(ValueError, match="takes 320x320 inputs"):
        det.backend.run(np.zeros((1, 3, 256, 320), np.float32))


@pytest.mark.parametrize("runtime", ["onnx", "openvino"])
def test_backend_errors_name_the_file(tmp_path, runtime):
    from models.backends.onnx import OnnxBackend, OnnxModelError
    from models.backends.openvino_runtime import OpenVinoBackend, OpenVinoModelError

    backend, error = {"onnx": (OnnxBackend, OnnxModelError), "openvino": (OpenVinoBackend, OpenVinoModelError)}[runtime]
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        backend(tmp_path / "missing.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not a protobuf")
    with pytest.raises(error, match="bad.onnx"):
        backend(bad)
    with pytest.raises(FileNotFoundError, match="python -m app export"):   # ONNX Runtime says how to make one
        OnnxBackend(tmp_path / "missing.onnx")


# ---------------------------------------------------------------------------- precisions
def test_int8_export_passes_its_agreement_check(tmp_path_factory, random_weights):
    r = _export(tmp_path_factory, random_weights, precision="int8")
    assert r.passed and r.precision == "int8"
    # Random weights: no box passes the shipped thresholds, so the honest gate is the map.
    assert r.agreement_mode == "map"
    gate = [c for c in r.checks if c.gating and "logit correlation" in c.name]
    assert gate and gate[0].value >= INT8_MIN_LOGIT_CORR
    assert any("ConvTranspose" in n for n in r.float_nodes) and any("Sigmoid" in n for n in r.float_nodes)
    model = onnx.load(str(r.path))
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("QuantizeLinear") > 20 and ops.count("DequantizeLinear") > 20
    assert r.path.stat().st_size < 0.4 * 48e6          # int8 weights: about a quarter of fp32
    assert parse_metadata({p.key: p.value for p in model.metadata_props}).precision == "int8"


def test_int8_box_gate_on_synthetic_maps():
    """The box gate itself, on maps with real structure (text blobs) and on broken ones."""
    from models.export.check import CheckInput as Sample
    from models.export.check import int8_checks
    from models.preprocess import ResizeInfo

    rng = np.random.default_rng(0)
    info = ResizeInfo(S, S, S, S, S, S)
    samples, ref = [], []
    for _ in range(3):
        m = np.full((S, S), 0.02, np.float32)
        for y in range(20, S - 40, 40):
            m[y:y + 16, 30:30 + int(rng.integers(80, 250))] = 0.9
        ref.append(m)
        samples.append(Sample(np.zeros((3, S, S), np.float32), info, [], "synthetic"))
    cfg = DetectorConfig()
    close = [np.clip(m + rng.normal(0, 0.02, m.shape), 0, 1).astype(np.float32) for m in ref]
    checks, mode, hmean = int8_checks(ref, close, samples, cfg, "auto", 0.95, 0.99)
    assert mode == "boxes" and hmean == 1.0 and all(c.passed for c in checks)
    broken = [np.where(m > 0.5, 0.3, m).astype(np.float32) for m in ref]   # text fades below box_thresh
    checks, mode, hmean = int8_checks(ref, broken, samples, cfg, "auto", 0.95, 0.99)
    assert mode == "boxes" and hmean == 0.0 and not all(c.passed for c in checks)
    flat = [np.full((S, S), 0.01, np.float32) for _ in ref]              # forced box mode, nothing found
    checks, _, _ = int8_checks(flat, flat, samples, cfg, "boxes", 0.95, 0.99)
    assert not all(c.passed for c in checks)


def test_failed_verification_is_an_error(tmp_path, random_weights, monkeypatch):
    import models.export.config as export
    from models.backends.onnx import OnnxBackend, OnnxModelError

    monkeypatch.setitem(export.TOLERANCE, "fp32", 0.0)     # no float model can meet this
    out = tmp_path / "m.onnx"
    cfg = ExportConfig(height=S, width=S, output=out, weights=random_weights, verify_images=3,
                       keep_failed=True)
    with pytest.raises(ExportVerificationError) as err:
        export_onnx(cfg)
    assert not err.value.report.passed and "FAILED" in str(err.value)
    assert not out.exists()
    failed = tmp_path / "m.FAILED.onnx"
    assert failed.is_file() and err.value.report.path == failed
    with pytest.raises(OnnxModelError, match="FAILED its verification"):
        OnnxBackend(failed)


# ---------------------------------------------------------------------------- command line
def test_cli_export_end_to_end(tmp_path, random_weights, capsys):
    """fp16 with a dynamic shape through `python -m app export` (in-process)."""
    from app.cli import main

    out = tmp_path / "cli_fp16.onnx"
    rc = main(["export", "--height", str(S), "--width", str(S), "--dynamic", "--precision", "fp16",
               "--weights", str(random_weights), "--output", str(out), "--verify-images", "3"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert out.is_file() and "PASSED" in printed and "max |p_fp16 - p_torch|" in printed
    assert "--backend onnx --model" in printed
    assert main(["export", "--height", "500", "--output", str(tmp_path / "x.onnx")]) == 2
    assert "multiple of 32" in capsys.readouterr().err
    assert main(["export", "--weights", str(tmp_path / "none.safetensors"), "--output",
                 str(tmp_path / "y.onnx")]) == 2
    assert "No trained detector weights" in capsys.readouterr().err


@pytest.fixture(scope="module")
def random_word_weights(tmp_path_factory):
    """A network with a word map on the line neck (``DBNetConfig.word_head``), random weights (a
    random word neck of its own quantizes too far from float for the map gate: trained ones pass)."""
    import torch

    from models.dbnet import DBNet, DBNetConfig
    from models.weights import save_weights

    torch.manual_seed(1)
    path = tmp_path_factory.mktemp("weights") / "random_words.safetensors"
    save_weights(DBNet(DBNetConfig(word_head=True, word_neck=False)), path)
    return path


def test_a_word_map_is_exported_checked_and_kept_in_float(tmp_path_factory, random_word_weights):
    """Both maps leave the graph, as two outputs (prob, word_prob: [N,1,H,W] each); int8 keeps
    both final layers and sigmoids in float and checks both maps; the ONNX backend hands both
    to the post-processing, as PyTorch does."""
    from models import TextDetector

    r = _export(tmp_path_factory, random_word_weights, precision="int8", dynamic=True)
    assert r.passed
    assert sum("ConvTranspose" in n for n in r.float_nodes) == 2, r.float_nodes
    assert sum("Sigmoid" in n for n in r.float_nodes) == 2, r.float_nodes
    model = onnx.load(str(r.path))
    assert [o.name for o in model.graph.output] == ["prob", "word_prob"]
    assert all(o.type.tensor_type.shape.dim[1].dim_value == 1 for o in model.graph.output)
    assert "word_prob: float32 [N,1,H,W]" in parse_metadata({p.key: p.value for p in model.metadata_props}).raw["output"]
    # every input of the two sigmoids comes from a float layer: no 8-bit step on the logits
    producers = {t: n for n in model.graph.node for t in n.output}
    for output in model.graph.output:
        sigmoid = producers[output.name]
        assert sigmoid.op_type == "Sigmoid" and producers[sigmoid.input[0]].op_type == "ConvTranspose"
    x = prepare(render_pages(1, seed=11, size=(S, S))[0].image, DetectorConfig(), (S, S))[0][None]
    onnx_det = TextDetector(model=r.path, device="cpu", backend="onnx")
    torch_det = TextDetector(weights=random_word_weights, device="cpu", backend="torch")
    a, b = onnx_det.backend.run(x), torch_det.backend.run(x)
    assert a.shape == b.shape == (1, 2, S, S)
    assert np.corrcoef(a[0, 1].ravel(), b[0, 1].ravel())[0, 1] > 0.9
