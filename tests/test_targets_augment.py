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
