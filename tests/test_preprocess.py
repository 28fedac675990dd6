"""Decoding, validation and the resize/pad mapping back to original pixels."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from models.config import DetectorConfig
from models.postprocess import DBPostProcess
from models.preprocess import (
    ImageDecodeError,
    load_image,
    load_image_for_detection,
    normalize,
    prepare,
    resize_for_model,
    target_size,
)


def _png_bytes(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("h,w", [(480, 640), (640, 480), (100, 1500), (1500, 100), (33, 33), (2000, 3000)])
@pytest.mark.parametrize("policy", [("max", 960), ("max", 640), ("min", 736), ("long", 960)])
def test_boxes_map_back_to_original_pixels(h, w, policy):
    """A rectangle painted on the network-input probability map comes back within 1 px."""
    cfg = DetectorConfig(limit_type=policy[0], limit_side=policy[1], box_thresh=0.3, unclip_ratio=1.5)
    img = np.zeros((h, w, 3), np.uint8)
    _, info = prepare(img, cfg)
    assert info.input_h % 32 == 0 and info.input_w % 32 == 0
    assert max(info.input_h, info.input_w) <= cfg.max_side + 31
    # Expected box in original pixels, as a fraction of the image.
    x0, y0, x1, y1 = 0.2 * w, 0.3 * h, 0.8 * w, 0.7 * h
    prob = np.zeros((info.input_h, info.input_w), np.float32)
    # The DB kernel is the shrunk box; unclip 1.5 brings it back to roughly the full box.
    sx, sy = info.scale_x, info.scale_y
    prob[int(round(y0 * sy)):int(round(y1 * sy)), int(round(x0 * sx)):int(round(x1 * sx))] = 1.0
    boxes = DBPostProcess(DetectorConfig(thresh=0.5, box_thresh=0.3, unclip_ratio=0.5, min_size=0))(prob, info)
    assert len(boxes.quads) == 1
    q = boxes.quads[0]
    xs, ys = q[:, 0], q[:, 1]
    # unclip 0.5 grows by area*0.5/perimeter, bounded by a few input pixels: allow that
    # growth (in original pixels) plus 1 px of rounding.
    tol_x = 1 + 0.5 * (x1 - x0) * (y1 - y0) * sx * sy / (2 * ((x1 - x0) * sx + (y1 - y0) * sy)) / sx + 1 / sx
    tol_y = 1 + 0.5 * (x1 - x0) * (y1 - y0) * sx * sy / (2 * ((x1 - x0) * sx + (y1 - y0) * sy)) / sy + 1 / sy
    assert abs(xs.min() - x0) <= tol_x and abs(xs.max() - (x1 - 1)) <= tol_x
    assert abs(ys.min() - y0) <= tol_y and abs(ys.max() - (y1 - 1)) <= tol_y


def test_scale_is_uniform_and_padding_not_stretching():
    cfg = DetectorConfig(limit_side=960, min_short_ratio=0)
    img = np.full((500, 1000, 3), 200, np.uint8)
    padded, info = resize_for_model(img, cfg)
    assert (info.resized_h, info.resized_w) == (480, 960)
    assert (info.input_h, info.input_w) == (480, 960)
    assert abs(info.scale_x - info.scale_y) < 1e-9
    img2 = np.full((301, 401, 3), 200, np.uint8)
    padded, info = resize_for_model(img2, DetectorConfig(limit_side=2048, min_long_ratio=0))
    assert (info.resized_h, info.resized_w) == (301, 401)      # no upscaling with "max" and no min long side
    assert (info.input_h, info.input_w) == (320, 416)           # padded, not stretched
    assert (padded[301:] == padded[301, 0]).all()


def test_small_images_are_enlarged_to_the_min_long_side_by_at_most_max_upscale():
    cfg = DetectorConfig()                                       # max 1280, long side >= 640, at most 4x
    assert target_size(170, 307, cfg) == (354, 640)              # a small web graphic: its text gets pixels
    assert target_size(60, 100, cfg) == (240, 400)               # a tiny crop: 4x, not 6.4x
    assert target_size(480, 640, cfg) == (480, 640)              # already at the min long side
    assert target_size(720, 1280, cfg) == (720, 1280)            # photos: unchanged
    assert target_size(3024, 4032, cfg) == (960, 1280)
    assert target_size(170, 307, cfg.with_overrides(min_long_ratio=0)) == (170, 307)   # 0 = never enlarge
    assert target_size(170, 307, cfg.with_overrides(max_upscale=1.5)) == (255, 460)
    assert target_size(170, 307, cfg.with_overrides(limit_side=960)) == (266, 480)     # a fraction of the limit
    assert target_size(600, 20000, cfg) == (61, 2048)            # max side still caps the long side


def test_the_short_side_floor_keeps_tall_scans_sharp_and_leaves_photos_alone():
    cfg = DetectorConfig()                                       # max 1280, short side >= 960
    assert target_size(3024, 4032, cfg) == (960, 1280)           # a 4:3 phone photo: as without the floor
    assert target_size(720, 1280, cfg) == (720, 1280)            # never enlarged
    assert target_size(1080, 1920, cfg) == (960, 1707)           # 16:9: short side kept at 960
    assert target_size(2000, 700, cfg) == (2000, 700)            # a tall receipt scan: not shrunk at all
    assert target_size(3508, 2480, cfg) == (1358, 960)           # an A4 scan at 300 dpi
    assert target_size(6000, 1000, cfg) == (2048, 341)           # max_side still caps the long side
    assert target_size(2000, 700, DetectorConfig(min_short_ratio=0)) == (1280, 448)
    assert target_size(2000, 700, DetectorConfig(limit_side=640)) == (1371, 480)   # the floor follows the limit


def test_long_side_capped_even_with_min_policy():
    cfg = DetectorConfig(limit_type="min", limit_side=960, max_side=2048)
    assert max(target_size(4961, 7016, cfg)) <= 2048
    assert max(target_size(100, 10000, cfg)) <= 2048


def test_long_policy_enlarges_small_images_and_shrinks_large_ones():
    cfg = DetectorConfig(limit_type="long", limit_side=960)
    assert target_size(300, 400, cfg) == (720, 960)          # born-digital sized: enlarged
    assert target_size(2000, 1000, cfg) == (960, 480)        # a tall receipt: shrunk
    assert target_size(100, 10000, DetectorConfig(limit_type="long", limit_side=4096, max_side=2048)) == (20, 2048)


def test_normalisation_is_imagenet():
    cfg = DetectorConfig()
    x, _ = prepare(np.full((32, 32, 3), 255, np.uint8), cfg)
    expected = (1.0 - np.array(cfg.mean)) / np.array(cfg.std)
    np.testing.assert_allclose(x[:, 0, 0], expected, rtol=1e-5)


def test_table_normalisation_equals_the_float_formula_on_every_level():
    """The per-channel lookup tables give the widened, centred, scaled image bit for bit."""
    cfg = DetectorConfig()
    rng = np.random.default_rng(7)
    # every uint8 level in every channel, in a different order per channel
    image = np.stack([rng.permutation(256).astype(np.uint8).reshape(16, 16) for _ in range(3)], axis=-1)
    mean = np.asarray(cfg.mean, dtype=np.float32) * 255.0
    inv_std = 1.0 / (np.asarray(cfg.std, dtype=np.float32) * 255.0)
    expected = ((image.astype(np.float32) - mean) * inv_std).transpose(2, 0, 1)
    got = normalize(image, cfg)
    assert got.dtype == np.float32 and got.shape == (3, 16, 16) and got.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(got, expected)


def test_decode_modes_to_rgb():
    gray = Image.new("L", (20, 10), 128)
    assert load_image(_png_bytes(gray)).shape == (10, 20, 3)
    rgba = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    out = load_image(_png_bytes(rgba))
    assert out.shape == (10, 20, 3) and (out == 255).all()        # transparent -> white
    pal = Image.new("P", (8, 8))
    assert load_image(_png_bytes(pal)).shape == (8, 8, 3)
    deep = Image.fromarray(np.full((6, 6), 65535, np.uint16))
    assert load_image(_png_bytes(deep)).max() == 255
    cmyk = Image.new("CMYK", (8, 8), (0, 0, 0, 0))
    out = load_image(_png_bytes(cmyk, "JPEG"))
    assert out.shape == (8, 8, 3) and out.mean() > 240


def test_exif_orientation_applied():
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW on display
    data = _png_bytes(img, "JPEG", exif=exif.tobytes())
    assert load_image(data).shape == (40, 20, 3)


@pytest.mark.parametrize("data,reason", [
    (b"", "empty"),
    (b"\x00\x01 not an image at all" * 10, "not a recognised image"),
    (b"%PDF-1.4\n...", "PDF"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "SVG"),
])
def test_bad_inputs_have_clear_errors(data, reason):
    with pytest.raises(ImageDecodeError, match=reason):
        load_image(data, name="upload.png")


def test_truncated_and_oversized(tmp_path):
    good = _png_bytes(Image.new("RGB", (300, 300), (10, 200, 30)), "JPEG")
    with pytest.raises(ImageDecodeError, match="truncated|corrupt|decoded"):
        load_image(good[: len(good) // 3], name="cut.jpg")
    big = Image.new("L", (3000, 2000))
    with pytest.raises(ImageDecodeError, match="megapixels"):
        load_image(_png_bytes(big), max_megapixels=5)
    with pytest.raises(ImageDecodeError, match="not found"):
        load_image(tmp_path / "missing.jpg")
    path = tmp_path / "名字 with space.png"
    path.write_bytes(_png_bytes(Image.new("RGB", (5, 5))))
    assert load_image(path).shape == (5, 5, 3)
    with pytest.raises(ImageDecodeError, match="名字 with space.png"):
        path.write_bytes(b"")
        load_image(path)


def _large_jpeg(w: int, h: int, orientation: int | None = None) -> bytes:
    """A photo-sized JPEG with structure at every scale (so a wrong crop or scale shows)."""
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([(xx * 255 // w), (yy * 255 // h), ((xx // 64 + yy // 64) % 2) * 255], -1).astype(np.uint8)
    img = Image.fromarray(rgb)
    if orientation is None:
        return _png_bytes(img, "JPEG", quality=90)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _png_bytes(img, "JPEG", quality=90, exif=exif.tobytes())


def test_large_jpeg_is_decoded_reduced_but_never_below_what_the_network_sees():
    cfg = DetectorConfig()                      # long side 1280
    data = _large_jpeg(4032, 3024)
    rgb, size = load_image_for_detection(data, cfg)
    assert size == (3024, 4032)                 # the original's size, for the boxes
    assert rgb.shape == (1512, 2016, 3)         # libjpeg's 1/2 scale: 1/4 would be under 1280
    full = load_image(data)
    assert full.shape == (3024, 4032, 3)        # load_image itself never reduces
    # the same network input either way (a few grey levels apart: DCT scaling vs area averaging)
    x_reduced, info_reduced = prepare(rgb, cfg, orig_size=size)
    x_full, info_full = prepare(full, cfg)
    assert info_reduced == info_full and x_reduced.shape == x_full.shape == (3, 960, 1280)
    assert np.abs(x_reduced - x_full).mean() < 0.05    # normalised units: about 3 grey levels of 255


@pytest.mark.parametrize("orientation,expected", [(6, (4032, 3024)), (8, (4032, 3024)), (3, (3024, 4032))])
def test_reduced_decode_reports_the_exif_rotated_original_size(orientation, expected):
    rgb, size = load_image_for_detection(_large_jpeg(4032, 3024, orientation), DetectorConfig())
    assert size == expected
    assert rgb.shape[:2] == (expected[0] // 2, expected[1] // 2)


def test_small_jpegs_pngs_and_enlarging_policies_are_decoded_at_full_size():
    cfg = DetectorConfig()
    for data in (_large_jpeg(2400, 1800),                       # under twice the needed size
                 _png_bytes(Image.new("RGB", (4032, 3024), "white"))):   # not a JPEG
        rgb, size = load_image_for_detection(data, cfg)
        assert rgb.shape[:2] == size
    rgb, size = load_image_for_detection(_large_jpeg(4032, 3024), DetectorConfig(limit_type="min", limit_side=3000))
    assert rgb.shape[:2] == size == (3024, 4032)
