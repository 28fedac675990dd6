"""DB target maps and augmentation geometry."""
from __future__ import annotations

import cv2
import numpy as np

from models.data.augment import AugmentConfig, augment
from models.data.targets import make_border_map, make_shrink_map


def test_shrink_map_area_matches_db_offset():
    quad = np.array([[50, 40], [250, 40], [250, 100], [50, 100]], np.float32)   # 200 x 60
    gt, mask = make_shrink_map((160, 300), [quad], [False], shrink_ratio=0.4)
    d = 200 * 60 * (1 - 0.4 ** 2) / (2 * (200 + 60))                            # 19.4 px
    expected = (200 - 2 * d) * (60 - 2 * d)
    assert abs(gt.sum() - expected) / expected < 0.1
    assert mask.min() == 1.0          # nothing ignored
    assert gt[70, 150] == 1 and gt[42, 52] == 0   # centre inside, corner outside the kernel


def test_ignore_and_tiny_regions_masked():
    q_ignore = np.array([[10, 10], [90, 10], [90, 40], [10, 40]], np.float32)
    q_tiny = np.array([[120, 10], [160, 10], [160, 14], [120, 14]], np.float32)   # 4 px tall
    gt, mask = make_shrink_map((60, 200), [q_ignore, q_tiny], [True, False], min_text_size=8)
    assert gt.sum() == 0
    assert mask[25, 50] == 0 and mask[12, 140] == 0 and mask[50, 190] == 1


def test_border_map_range_and_mask():
    quad = np.array([[40, 40], [200, 40], [200, 90], [40, 90]], np.float32)
    thresh, mask = make_border_map((140, 240), [quad], [False])
    assert np.isclose(thresh.min(), 0.3) and thresh.max() <= 0.7 + 1e-6
    assert abs(thresh[40, 120] - 0.7) < 0.02            # on the edge: maximal
    assert mask[40, 120] == 1 and mask[5, 5] == 0       # dilated polygon covered, far away not


def test_augment_keeps_boxes_on_their_text():
    """Paint each box a unique colour, augment, and check the colour is still under the box."""
    img = np.full((600, 800, 3), 255, np.uint8)
    quads, colours = [], []
    for k, (x, y) in enumerate([(100, 100), (400, 300), (200, 450)]):
        q = np.array([[x, y], [x + 180, y], [x + 180, y + 50], [x, y + 50]], np.float32)
        colour = [(255, 0, 0), (0, 180, 0), (0, 0, 255)][k]
        cv2.fillPoly(img, [q.astype(np.int32)], colour)
        quads.append(q)
        colours.append(np.array(colour))
    cfg = AugmentConfig(size=320, color_prob=0, blur_prob=0, noise_prob=0, jpeg_prob=0)
    checked = 0
    for trial in range(20):
        crop, polys, ignore = augment(np.random.default_rng(trial), img, quads, [False] * 3, cfg)
        assert crop.shape == (320, 320, 3)
        for p, ign in zip(polys, ignore):
            if ign:
                continue
            m = np.zeros(crop.shape[:2], np.uint8)
            # Erode the polygon a little so interpolation at the border does not count.
            cv2.fillPoly(m, [np.round(p).astype(np.int32)], 1)
            m = cv2.erode(m, np.ones((5, 5), np.uint8))
            if m.sum() < 20:
                continue
            inside = crop[m > 0].astype(float).mean(axis=0)
            assert min(np.abs(inside - c).max() for c in colours) < 40, inside
            checked += 1
    assert checked >= 10


def _edge_distance_reference(x: float, y: float, poly: np.ndarray) -> float:
    """Point-to-polygon-outline distance, one edge at a time in plain Python."""
    best = float("inf")
    for i in range(len(poly)):
        (ax, ay), (bx, by) = poly[i], poly[(i + 1) % len(poly)]
        abx, aby = bx - ax, by - ay
        t = min(max(((x - ax) * abx + (y - ay) * aby) / max(abx * abx + aby * aby, 1e-6), 0.0), 1.0)
        best = min(best, float(np.hypot(x - (ax + t * abx), y - (ay + t * aby))))
    return best


def test_border_map_is_the_normalised_distance_to_the_outline():
    """The all-edges-at-once distance gives DB's threshold target, pixel by pixel."""
    from models.data.targets import _area_perimeter

    poly = np.array([[30, 20], [120, 12], [140, 60], [70, 80], [20, 55]], np.float32)   # a tilted pentagon
    tmap, tmask = make_border_map((100, 160), [poly], [False])
    area, length = _area_perimeter(poly)
    distance = area * (1 - 0.4 ** 2) / length
    for y, x in [(20, 30), (20, 80), (40, 80), (15, 100), (70, 70), (50, 25), (5, 60), (90, 150)]:
        if tmask[y, x] == 0:
            continue
        want = 0.3 + 0.4 * (1 - min(_edge_distance_reference(x, y, poly) / distance, 1.0))
        assert abs(tmap[y, x] - want) < 1e-4, (x, y, tmap[y, x], want)
    assert tmask[20, 80] == 1 and tmap[20, 80] > 0.5               # inside, 4 px from the top edge


def test_colour_jitter_matrix_equals_the_step_by_step_jitter():
    """One cv2.transform pass = contrast/brightness, saturation, white balance, inversion in float."""
    from models.data.augment import colour_matrix

    img = np.random.default_rng(5).integers(0, 256, (24, 32, 3)).astype(np.uint8)
    inverted = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        f = img.astype(np.float32)
        f = (f - 128) * rng.uniform(0.6, 1.4) + 128 + rng.uniform(-40, 40)
        gray = f.mean(axis=2, keepdims=True)
        f = gray + (f - gray) * rng.uniform(0.3, 1.5)
        f *= rng.uniform(0.85, 1.15, 3)
        if rng.random() < 0.1:
            f, inverted = 255 - f, inverted + 1
        want = np.clip(np.round(f), 0, 255)
        got = cv2.transform(img, colour_matrix(np.random.default_rng(seed)))
        assert np.abs(got.astype(int) - want).max() <= 1, seed
    assert inverted > 0                                             # the dark-mode branch was covered


def test_samples_leave_the_loader_compact_and_are_normalised_on_the_device(tmp_path):
    import torch

    from models.config import IMAGENET_MEAN, IMAGENET_STD
    from models.data.dataset import DetectionDataset, to_device
    from models.data.icdar import read_split
    from models.synth.types import SynthConfig
    from models.synth.writer import write_dataset

    write_dataset(tmp_path, 2, SynthConfig(seed=3, long_side=(320, 400)), "train")
    ds = DetectionDataset(read_split(tmp_path, "train"), AugmentConfig(size=128), seed=0)
    sample = ds[0]
    assert {k: v.dtype for k, v in sample.items()} == {
        "image": torch.uint8, "shrink_map": torch.uint8, "shrink_mask": torch.uint8,
        "thresh_map": torch.float16, "thresh_mask": torch.uint8}
    assert sample["image"].shape == (3, 128, 128) and sample["shrink_map"].shape == (128, 128)
    batch = to_device({k: v[None] for k, v in sample.items()}, "cpu")
    mean = np.asarray(IMAGENET_MEAN, np.float32)[:, None, None] * 255
    std = np.asarray(IMAGENET_STD, np.float32)[:, None, None] * 255
    want = (sample["image"].numpy().astype(np.float32) - mean) / std
    np.testing.assert_allclose(batch["image"][0].numpy(), want, atol=1e-5)
    assert all(batch[k].dtype == torch.float32 for k in batch)
    assert set(np.unique(batch["shrink_map"].numpy())) <= {0.0, 1.0}
    assert 0.29 <= float(batch["thresh_map"].min()) and float(batch["thresh_map"].max()) <= 0.71
    # a float batch (already normalised) is passed through as it is
    ready = torch.randn(1, 3, 8, 8)
    assert torch.equal(to_device({"image": ready}, "cpu")["image"], ready)
