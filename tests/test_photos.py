"""Real-photo backgrounds: cached once, cropped deterministically, optional."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from models.synth import photos
from models.synth.render import render_sample
from models.synth.types import SynthConfig


@pytest.fixture
def photo_dir(tmp_path, monkeypatch):
    src = tmp_path / "wallpapers"
    src.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        img = rng.integers(0, 255, (600 + 100 * i, 900, 3), dtype=np.uint8)
        cv2.imwrite(str(src / f"photo_{i}.png"), img)
    cv2.imwrite(str(src / "icon.png"), np.zeros((64, 64, 3), np.uint8))          # too small: skipped
    cv2.imwrite(str(src / "screenshot.png"), np.zeros((700, 900, 3), np.uint8))  # preview: skipped
    monkeypatch.setenv("SYNTH_PHOTO_DIRS", str(src))
    monkeypatch.setenv("SYNTH_PHOTO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(photos, "DEFAULT_PHOTO_DIRS", ())
    photos.photo_library.cache_clear()
    yield src
    photos.photo_library.cache_clear()


def test_cache_holds_each_photo_once_and_skips_icons_and_previews(photo_dir, tmp_path):
    first = photos.prepare_photo_cache()
    assert len(first) == 3
    assert photos.prepare_photo_cache() == first          # second call reuses the cache
    assert all(max(cv2.imread(str(p)).shape[:2]) <= photos.CACHE_LONG_SIDE for p in first)


def test_crops_have_the_requested_size_and_are_reproducible(photo_dir):
    a = photos.random_photo_crop(np.random.default_rng(7), 320, 200)
    b = photos.random_photo_crop(np.random.default_rng(7), 320, 200)
    assert a.shape == (200, 320, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)


def test_without_photos_the_renderer_falls_back_to_procedural(tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTH_PHOTO_DIRS", str(tmp_path / "none"))
    monkeypatch.setenv("SYNTH_PHOTO_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(photos, "DEFAULT_PHOTO_DIRS", ())
    photos.photo_library.cache_clear()
    try:
        assert photos.random_photo_crop(np.random.default_rng(0), 100, 80) is None
        sample = render_sample(3, SynthConfig(seed=1, mix=(("negative", 1.0),), real_photo_prob=1.0))
        assert sample.items == [] and sample.image.ndim == 3
    finally:
        photos.photo_library.cache_clear()


def test_scene_on_a_photo_keeps_its_boxes(photo_dir):
    sample = render_sample(0, SynthConfig(seed=4, mix=(("scene", 1.0),), real_photo_prob=1.0))
    h, w = sample.image.shape[:2]
    assert sample.items, "a scene always holds some text"
    for it in sample.items:
        assert (it.quad >= 0).all() and (it.quad[:, 0] < w).all() and (it.quad[:, 1] < h).all()
