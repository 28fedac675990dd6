"""The word map on demand (models.backends.word_branch): cut off from an exported file it
computes exactly what the whole file computes, every backend runs it only for the images that
want words, and the boxes are the same as with both maps run at once."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

from models import TextDetector
from models.backends import WordMapOnDemand
from models.backends.word_branch import split_word_branch
from models.config import DetectorConfig
from models.export.config import ExportConfig
from models.export.exporter import export_onnx
from models.export.samples import render_pages
from models.preprocess import prepare

S = 320


def _weights(tmp_path_factory, name: str, **config):
    import torch

    from models.dbnet import DBNet, DBNetConfig
    from models.weights import save_weights

    torch.manual_seed(3)
    path = tmp_path_factory.mktemp("weights") / f"{name}.safetensors"
    save_weights(DBNet(DBNetConfig(**config)), path)
    return path


def _export(tmp_path_factory, weights, **kw):
    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    return export_onnx(ExportConfig(height=S, width=S, output=out, weights=weights, verify_images=3,
                                    calibration_images=2, dynamic=True, **kw))


@pytest.fixture(scope="module")
def word_weights(tmp_path_factory):
    """A word map on the line neck (what GPU stage 6 trained), random weights."""
    return _weights(tmp_path_factory, "words", word_head=True, word_neck=False)


@pytest.fixture(scope="module")
def word_int8(tmp_path_factory, word_weights):
    return _export(tmp_path_factory, word_weights, precision="int8").path


def _pages(n: int = 2) -> np.ndarray:
    return np.stack([prepare(p.image, DetectorConfig(), (S, S))[0] for p in render_pages(n, seed=5, size=(S, S))])


def _ort(model: onnx.ModelProto):
    import onnxruntime as ort

    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def test_the_cut_graphs_compute_what_the_whole_int8_file_computes(word_int8):
    """Line graph + word graph = the verified file, bit for bit. What crosses is the line neck's
    four scales before their upsampling, as int8, and the shape arithmetic (int64): the word
    graph repeats the upsampling and the concatenation."""
    model = onnx.load(str(word_int8))
    branch = split_word_branch(model)
    assert branch is not None
    x = _pages()
    whole = _ort(model).run(None, {"images": x})
    lines = _ort(branch.lines).run(None, {"images": x})
    crossing = lines[1:]
    assert len(crossing) == len(branch.boundary) and "images" not in branch.boundary
    features = sorted((a.shape for a in crossing if a.dtype == np.uint8), reverse=True)
    assert features == [(2, 64, S // s, S // s) for s in (4, 8, 16, 32)]   # FPN inner/4 = 64 channels each
    assert all(a.dtype in (np.uint8, np.int64) for a in crossing)
    assert {n.op_type for n in branch.words.graph.node} >= {"Resize", "Concat", "ConvTranspose", "Sigmoid"}
    words = _ort(branch.words).run(None, dict(zip(branch.boundary, crossing)))
    assert np.array_equal(whole[0], lines[0]) and np.array_equal(whole[1], words[0])
    # the word graph holds the word map's nodes only: far smaller than the line graph
    assert len(branch.words.graph.node) * 5 < len(branch.lines.graph.node)


def test_a_word_neck_of_its_own_crosses_the_backbone_features(tmp_path_factory):
    """With a neck of its own the word graph reads the backbone's four feature maps."""
    weights = _weights(tmp_path_factory, "own_neck", word_head=True, word_neck=True)
    model = onnx.load(str(_export(tmp_path_factory, weights, precision="fp32").path))
    branch = split_word_branch(model)
    assert branch is not None and len(branch.boundary) >= 4
    x = _pages(1)
    whole = _ort(model).run(None, {"images": x})
    lines = _ort(branch.lines).run(None, {"images": x})
    feeds = dict(zip([t for t in branch.boundary if t != "images"], lines[1:]))
    if "images" in branch.boundary:
        feeds["images"] = x
    assert np.array_equal(whole[0], lines[0])
    np.testing.assert_allclose(_ort(branch.words).run(None, feeds)[0], whole[1], atol=1e-6)


def test_a_line_only_file_has_nothing_to_cut(tmp_path_factory, random_weights):
    path = _export(tmp_path_factory, random_weights, precision="fp32").path
    model = onnx.load(str(path))
    assert split_word_branch(model) is None
    assert not TextDetector(model=path, backend="onnx", device="cpu").backend.word_map_on_demand


def test_a_word_map_file_of_one_two_channel_output_runs_whole(word_int8, tmp_path):
    """Files exported before the cut (both maps in one [N,2,H,W] output) still load and run whole."""
    from onnx import helper

    model = onnx.load(str(word_int8))
    g = model.graph
    g.node.append(helper.make_node("Concat", ["prob", "word_prob"], ["both"], axis=1))
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("both", onnx.TensorProto.FLOAT, ["batch", 2, "height", "width"]))
    assert split_word_branch(model) is None
    path = tmp_path / "one_output.onnx"
    onnx.save(model, str(path))
    det = TextDetector(model=path, backend="onnx", device="cpu")
    assert not det.backend.word_map_on_demand
    assert det.backend.run(_pages(1)).shape == (1, 2, S, S)


@pytest.mark.parametrize("backend", ["onnx", "openvino", "torch"])
def test_every_cpu_backend_runs_the_word_map_on_demand(word_weights, word_int8, backend):
    """run_lines gives the line maps of run() and word maps equal to run()'s second channel,
    each computed only when asked for."""
    if backend == "openvino":
        pytest.importorskip("openvino")
    kw = {"weights": word_weights} if backend == "torch" else {"model": word_int8}
    det = TextDetector(backend=backend, device="cpu", **kw)
    assert det.backend.word_map_on_demand
    x = _pages()
    both = det.backend.run(x)
    lines, words = det.backend.run_lines(x)
    assert both.shape == (2, 2, S, S) and lines.shape == (2, S, S) and len(words) == 2
    assert all(isinstance(w, WordMapOnDemand) and w.seconds == 0.0 for w in words)
    np.testing.assert_allclose(lines, both[:, 0], atol=1e-6)
    for k, w in enumerate(words):
        np.testing.assert_allclose(w(), both[k, 1], atol=1e-6)
        assert w.seconds > 0.0 and w() is w()      # computed once


def test_pages_never_run_the_word_map_and_the_boxes_do_not_change(word_weights, monkeypatch):
    """With ``lines`` (or ``auto`` on a page) the word map is never computed; where it is, the
    boxes are those of both maps run at once, and its time counts as inference."""
    det = TextDetector(weights=word_weights, backend="torch", device="cpu")
    asked = []
    real = WordMapOnDemand.__call__
    monkeypatch.setattr(WordMapOnDemand, "__call__", lambda self: asked.append(1) or real(self))
    page = render_pages(1, seed=9, size=(S, S))[0].image
    det.detect(page, granularity="lines")
    assert asked == []
    # granularity words with a map made to show text everywhere: the word map is asked for
    on_demand = det.detect(page, granularity="words", thresh=0.0, box_thresh=0.0, mirror_words=False, zoom_words=1.0)
    assert asked == [1] and on_demand.timings["inference"] > 0
    det.backend.word_map_on_demand = False
    at_once = det.detect(page, granularity="words", thresh=0.0, box_thresh=0.0, mirror_words=False, zoom_words=1.0)
    assert np.array_equal(on_demand.boxes, at_once.boxes) and np.array_equal(on_demand.scores, at_once.scores)


def test_a_stream_that_mostly_wants_words_runs_both_maps_in_one_call(word_weights, monkeypatch):
    """Once most recent images wanted words, the next one runs the whole graph (one call, not the
    line graph and then the word graph), with the same boxes; a run of pages brings the line
    graph back."""
    from models.detector import WordShare

    det = TextDetector(weights=word_weights, backend="torch", device="cpu")
    calls = []
    for name in ("run", "run_lines"):
        real = getattr(det.backend, name)
        monkeypatch.setattr(det.backend, name, lambda b, real=real, name=name: calls.append(name) or real(b))
    page = render_pages(1, seed=9, size=(S, S))[0].image
    words = {"granularity": "words", "thresh": 0.0, "box_thresh": 0.0, "mirror_words": False, "zoom_words": 1.0}
    apart = [det.detect(page, **words) for _ in range(WordShare.WORDS_NEEDED)]
    assert calls == ["run_lines"] * WordShare.WORDS_NEEDED
    whole = det.detect(page, **words)
    assert calls[-1] == "run" and len(whole.boxes) > 0
    assert np.array_equal(whole.boxes, apart[0].boxes) and np.array_equal(whole.scores, apart[0].scores)
    assert list(det.detect_many([page, page], **words))[1].success and calls[-1] == "run"
    for _ in range(WordShare.WINDOW):
        det.detect(page, granularity="lines")
    assert calls[-1] == "run_lines"


def test_word_map_off_cuts_the_line_map_as_a_line_network_does(word_weights, monkeypatch):
    """``word_map=False``: the word map is never computed and the boxes are those of the line
    map alone, cut at its own gaps (what a network without a word map gives)."""
    from models.postprocess import DBPostProcess

    det = TextDetector(weights=word_weights, backend="torch", device="cpu")
    asked = []
    real = WordMapOnDemand.__call__
    monkeypatch.setattr(WordMapOnDemand, "__call__", lambda self: asked.append(1) or real(self))
    page = render_pages(1, seed=9, size=(S, S))[0].image
    off = det.detect(page, granularity="words", word_map=False, thresh=0.0, box_thresh=0.0, mirror_words=False, zoom_words=1.0)
    assert asked == []
    x, info = prepare(page, det.config)
    lines = det.backend.run(x[None])[0, 0]
    cfg = det.config.with_overrides(granularity="words", thresh=0.0, box_thresh=0.0, mirror_words=False, zoom_words=1.0)
    alone = DBPostProcess(cfg)(lines, info, None)
    assert len(off.boxes) == len(alone.quads)


def test_a_file_whose_word_map_cannot_be_cut_runs_whole(word_int8, monkeypatch, caplog):
    """A cut that fails (an unexpected graph) costs speed, never the model: it runs whole."""
    import models.backends.word_branch as word_branch

    def broken(model):
        raise ValueError("no type known for ['x']")

    monkeypatch.setattr(word_branch, "split_word_branch", broken)
    with caplog.at_level("WARNING"):
        det = TextDetector(model=word_int8, backend="onnx", device="cpu")
    assert not det.backend.word_map_on_demand and "cannot be run apart" in caplog.text
    assert det.backend.run(_pages(1)).shape == (1, 2, S, S)
