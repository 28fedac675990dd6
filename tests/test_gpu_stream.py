"""GpuStream (models/gpu_stream.py) on the CPU: the same code path a GPU runs, less nvJPEG.

What must hold wherever it runs: results in input order, the ordinary path's boxes (the
stream resizes, thresholds and scores on the device and post-processes in other processes),
the ordinary error messages for bad files, and no hang when a worker process dies.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

import models.gpu_stream as gpu_stream
from models import DetectorConfig, TextDetector
from models.gpu_decode import apply_orientation
from models.gpu_stream import GpuStream
from models.postprocess import DBPostProcess
from models.preprocess import ResizeInfo
from models.stream_worker import maps_bytes, unpack_maps
from models.weights import DEFAULT_WEIGHTS

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "real_samples"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_on_the_device_matches_pil(orientation):
    """nvJPEG's CUDA path ignores EXIF: the stream turns the image itself, as PIL would."""
    rgb = np.random.default_rng(orientation).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    img = Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, "PNG", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(buf)))
    got = apply_orientation(torch.from_numpy(rgb).permute(2, 0, 1), orientation).permute(1, 2, 0).numpy()
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("with_words", [False, True])
def test_packed_maps_round_trip(with_words):
    """uint8 map within 1/255, the bitmap exact (thresholded on the device), grey exact; a
    network's word map travels after the grey image, as a second map."""
    h, w, rh, rw = 64, 96, 50, 90
    prob = torch.rand(2, h, w)
    words = torch.rand(2, h, w) if with_words else None
    gray = torch.randint(0, 256, (2, h, w), dtype=torch.uint8)
    packed = GpuStream._pack_maps(prob, gray, 0.3, words, 0.35).numpy()
    assert packed.shape == (2, maps_bytes(h, w, True, with_words))
    for k in range(2):
        p, bits, line_bits, g = unpack_maps(packed[k], h, w, (rh, rw), True, with_words)
        assert bits.shape == line_bits.shape == g.shape == (rh, rw)
        assert np.array_equal(line_bits, (prob[k, :rh, :rw] > 0.35).numpy().astype(np.uint8))
        if with_words:
            assert p.shape == (2, rh, rw)
            np.testing.assert_allclose(p[1], words[k, :rh, :rw].numpy(), atol=0.5 / 255 + 1e-6)
            p = p[0]
        assert p.shape == (rh, rw)
        np.testing.assert_allclose(p, prob[k, :rh, :rw].numpy(), atol=0.5 / 255 + 1e-6)
        assert np.array_equal(bits, (prob[k, :rh, :rw] > 0.3).numpy().astype(np.uint8))
        assert np.array_equal(g, gray[k, :rh, :rw].numpy())


def test_a_given_bitmap_is_used_as_is():
    """DBPostProcess takes the device's exact bitmaps instead of thresholding the uint8 copy:
    ``line_bitmap`` (above ``thresh + lines_shift``) for an image read by line."""
    prob = np.zeros((64, 64), np.float32)
    prob[20:40, 10:50] = 0.9
    info = ResizeInfo(64, 64, 64, 64, 64, 64)
    post = DBPostProcess(DetectorConfig(granularity="lines", lines_shift=0.0))
    assert len(post(prob, info).quads) == 1
    assert len(post(prob, info, bitmap=np.zeros((64, 64), np.uint8)).quads) == 0
    shifted = DBPostProcess(DetectorConfig(granularity="lines", lines_shift=0.05))
    assert len(shifted(prob, info, bitmap=np.zeros((64, 64), np.uint8)).quads) == 1     # from the copy
    assert len(shifted(prob, info, bitmap=np.zeros((64, 64), np.uint8), line_bitmap=np.zeros((64, 64), np.uint8)).quads) == 0


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list:
    """Real photos and scans, a missing file, a corrupt JPEG and a PDF, interleaved."""
    tmp = tmp_path_factory.mktemp("stream")
    bad = tmp / "corrupt.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    pdf = tmp / "doc.png"
    pdf.write_bytes(b"%PDF-1.7 a document")
    page = tmp / "page_small.jpg"
    Image.open(SAMPLES / "page.png").convert("RGB").resize((400, 560)).save(page, quality=90)
    return [SAMPLES / "coffee.jpg", tmp / "missing.jpg", SAMPLES / "page.png", bad, page,
            SAMPLES / "rocket.jpg", pdf, SAMPLES / "text.png"]


@pytest.mark.skipif(not DEFAULT_WEIGHTS.exists(), reason="released weights not present")
def test_the_stream_gives_detect_many_s_boxes_and_errors_in_order(files):
    """Line boxes as the ordinary path's (within 2 px); the resized images differ by the
    resampling (bilinear on the device, OpenCV's fixed-point one on the CPU: 1 grey level)."""
    det = TextDetector(device="cpu", backend="torch", config=DetectorConfig(granularity="lines"))
    reference = list(det.detect_many(files))
    with GpuStream(det, batch_size=2, post_workers=2, loader_threads=2, decode_chunk=3) as stream:
        got = list(stream.detect_files(files))
        assert stream.stats.shared_memory in (True, False)
        assert stream.stats.failed == 3 and stream.stats.cpu_decoded == 5
        again = list(stream.detect_many(files[:3]))      # the processes serve a second call
        # auto (the default): the grey image travels too, and the word map after it; a word cut
        # on a resized page may flip with one grey level of resampling, never more than a box
        # an image. Without the word map the line map is cut at its gaps, with the grey image.
        # The stream reads every image once (GpuStream.FIXED_SETTINGS): so does the reference.
        auto_ref = list(det.detect_many(files, granularity="auto", **GpuStream.FIXED_SETTINGS))
        auto = list(stream.detect_files(files, granularity="auto"))
        cut_ref = list(det.detect_many(files, granularity="auto", word_map=False, **GpuStream.FIXED_SETTINGS))
        cut = list(stream.detect_files(files, granularity="auto", word_map=False))
    for ref, res in zip(auto_ref + cut_ref, auto + cut):
        assert abs(len(res.boxes) - len(ref.boxes)) <= 1
    assert sum(len(r.boxes) for r in cut) > sum(len(r.boxes) for r in got)     # words: more boxes
    assert [r.image_path for r in got] == [str(f) for f in files]
    assert sum(len(r.boxes) for r in reference) > 5
    for ref, res in zip(reference, got):
        assert res.success == ref.success, (res.error, ref.error)
        if not ref.success:
            assert res.error == ref.error
            continue
        assert (res.width, res.height) == (ref.width, ref.height)
        assert len(res.boxes) == len(ref.boxes)
        if len(ref.boxes):
            np.testing.assert_allclose(res.boxes, ref.boxes, atol=2)
            # a uint8 map of a resampled image: within 1/255 and an edge (at the page's higher cut,
            # lines_shift, one box of these moves a pixel: 0.011)
            np.testing.assert_allclose(res.scores, ref.scores, atol=1.5e-2)
        assert set(res.timings) >= {"decode", "inference", "postprocess", "total"}
    assert [len(r.boxes) for r in again] == [len(r.boxes) for r in got[:3]]
    errors = {Path(r.image_path).name: r.error for r in got if not r.success}
    assert "file not found" in errors["missing.jpg"]
    assert "truncated or corrupt" in errors["corrupt.jpg"]
    assert "PDF" in errors["doc.png"]


@pytest.mark.skipif(not DEFAULT_WEIGHTS.exists(), reason="released weights not present")
def test_without_shared_memory_the_maps_take_the_pipe(files, monkeypatch):
    monkeypatch.setattr(gpu_stream, "try_ring", lambda slots, slot_bytes: None)
    det = TextDetector(device="cpu", backend="torch", config=DetectorConfig(granularity="lines"))
    good = [f for f in files if f.name in ("page_small.jpg", "text.png")]
    reference = list(det.detect_many(good))
    stream = GpuStream(det, batch_size=2, post_workers=1)
    got = list(stream.detect_files(good))
    assert not stream.stats.shared_memory
    assert [len(r.boxes) for r in got] == [len(r.boxes) for r in reference]
    assert not stream._procs          # a call that started the processes stops them


def test_a_dead_worker_stops_the_run_with_an_error(random_detector, tmp_path):
    img = tmp_path / "a.png"
    Image.fromarray(np.full((64, 64, 3), 255, np.uint8)).save(img)
    with GpuStream(random_detector, batch_size=1, post_workers=1) as stream:
        for proc in stream._procs:
            proc.kill()
            proc.join()
        with pytest.raises(RuntimeError, match="post-processing process died"):
            list(stream.detect_files([img, img]))


def test_the_stream_refuses_other_backends():
    class Onnx:
        name = "onnx"

    class Fake:
        backend = Onnx()

    with pytest.raises(ValueError, match="PyTorch backend"):
        GpuStream(Fake())


def test_pictures_of_the_gpu_engine_are_decoded_small_and_turned(tmp_path):
    """FolderSink's pictures: a 1280 x 720 JPEG at half size by libjpeg, EXIF honoured, a PNG whole."""
    from app.io.outputs import PICTURE_SIDE, picture_of

    rgb = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "photo.jpg", quality=90)
    assert picture_of(tmp_path / "photo.jpg").shape == (360, 640, 3)
    img = Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = 6                                   # turned: the picture is upright, portrait
    img.save(tmp_path / "turned.jpg", quality=90, exif=exif)
    assert picture_of(tmp_path / "turned.jpg").shape == (640, 360, 3)
    Image.fromarray(rgb[:300, :500]).save(tmp_path / "small.png")
    assert picture_of(tmp_path / "small.png").shape == (300, 500, 3)
    assert PICTURE_SIDE == 640


@pytest.mark.skipif(not DEFAULT_WEIGHTS.exists(), reason="released weights not present")
def test_maps_larger_than_a_slot_take_the_pipe(files):
    """Slots are sized at start for the configured size limit; a call that asks for larger
    inputs still works (those maps go through the pipe)."""
    det = TextDetector(device="cpu", backend="torch", config=DetectorConfig(granularity="lines", limit_side=320))
    page = [f for f in files if f.name == "page_small.jpg"]
    reference = list(det.detect_many(page, limit_side=960))
    with GpuStream(det, batch_size=1, post_workers=1) as stream:
        assert stream._ring is None or stream._ring.slot_bytes < 960 * 960
        small = list(stream.detect_files(page))
        large = list(stream.detect_files(page, limit_side=960))
    assert small[0].success and large[0].success
    assert len(large[0].boxes) == len(reference[0].boxes)
