"""Copy-paste of real words (``--augment-paste-prob``): words cut with a rim of their background,
pasted at the asked size where no text is, labelled exactly, only within word-labelled sources."""
from __future__ import annotations

import numpy as np
import pytest

from models.data.augment import AugmentConfig
from models.data.copy_paste import MIN_DONOR_HEIGHT, WordBanks, cut_word, paste_words, word_height
from models.data.regions import Region, Sample


def _photo(seed: int = 0, h: int = 240, w: int = 320) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 60, (h, w, 3), dtype=np.uint8)


def _word_quad(x: float, y: float, w: float, h: float) -> np.ndarray:
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)


def test_a_cut_word_keeps_its_quad_a_soft_rim_and_its_height():
    img = _photo()
    img[100:120, 50:130] = 250                       # a bright word, 20 px high
    patch = cut_word(img, _word_quad(50, 100, 80, 20))
    assert patch is not None
    assert patch.height == pytest.approx(20, abs=0.5)
    ph, pw = patch.mask.shape
    assert patch.pixels.shape == (ph, pw, 3) and pw > 80 and ph > 20    # the rim is kept
    assert patch.mask.min() >= 0 and patch.mask.max() <= 1
    cx, cy = patch.quad.mean(axis=0).astype(int)
    assert patch.mask[cy, cx] > 0.99                                         # solid inside
    assert max(patch.mask[0].max(), patch.mask[-1].max(), patch.mask[:, 0].max(), patch.mask[:, -1].max()) == 0
    assert (patch.quad >= 0).all() and (patch.quad[:, 0] <= pw).all() and (patch.quad[:, 1] <= ph).all()


def test_words_too_small_to_enlarge_are_not_cut():
    assert cut_word(_photo(), _word_quad(10, 10, 30, MIN_DONOR_HEIGHT - 2)) is None


def test_pasted_words_land_where_no_text_is_at_the_asked_height():
    img = _photo(1)
    img[20:44, 20:200] = 240
    donor = cut_word(img, _word_quad(20, 20, 180, 24))
    target = _photo(2, 480, 640)
    existing = [_word_quad(300, 200, 100, 30)]
    rng = np.random.default_rng(0)
    out, polys, ignore = paste_words(rng, target, existing, [False], [donor], 3, (30, 40), max_rotation=0)
    assert np.array_equal(polys[0], existing[0]) and ignore == [False] * len(polys)
    pasted = polys[1:]
    assert 1 <= len(pasted) <= 3
    for q in pasted:
        assert 30 - 1 <= word_height(q) <= 40 + 1
        x0, y0 = q.min(axis=0)
        x1, y1 = q.max(axis=0)
        assert x1 < 300 or x0 > 400 or y1 < 200 or y0 > 230                 # not on the existing word
        cx, cy = q.mean(axis=0).astype(int)
        assert out[cy, cx].mean() > 200                                       # the donor's bright letters
    assert out[215, 350].tolist() == target[215, 350].tolist()               # the existing word is untouched
    assert not np.array_equal(out, target)


def test_nothing_is_pasted_without_donors_or_room():
    target = _photo(3)
    out, polys, ignore = paste_words(np.random.default_rng(0), target, [], [], [], 4, (10, 20))
    assert out is target and polys == [] and ignore == []
    img = _photo(4)
    img[20:44, 20:200] = 240
    donor = cut_word(img, _word_quad(20, 20, 180, 24))
    full = [_word_quad(0, 0, 320, 240)]                                       # text everywhere
    out, polys, _ = paste_words(np.random.default_rng(0), target, full, [False], [donor], 4, (20, 30))
    assert len(polys) == 1 and np.array_equal(out, target)


def _sample(tmp_path, name: str, seed: int) -> Sample:
    import cv2

    img = _photo(seed)
    img[60:90, 40:200] = 230
    path = tmp_path / f"{name}.png"
    cv2.imwrite(str(path), img)
    return Sample(path, tmp_path / f"gt_{name}.txt", [Region(_word_quad(40, 60, 160, 30), "WORD", False)])


def test_banks_are_cut_per_group_and_never_pickled(tmp_path):
    import pickle

    from models.data.dataset import read_rgb

    samples = [_sample(tmp_path, f"s{i}", i) for i in range(3)]
    banks = WordBanks(samples, [0, 0, None], read_rgb)
    assert len(banks.bank(0)) == 2 and banks.bank(1) == []
    restored = pickle.loads(pickle.dumps(banks))
    assert restored._banks == {} and len(restored.bank(0)) == 2


def test_the_dataset_pastes_only_into_its_groups_and_keeps_the_crop_draws(tmp_path):
    from models.data.dataset import DetectionDataset

    samples = [_sample(tmp_path, f"s{i}", i) for i in range(4)]
    aug = AugmentConfig(size=128, infer_long_side=320)
    plain = DetectionDataset(samples, aug, seed=1)
    off = DetectionDataset(samples, aug, seed=1, paste_groups=[0, 0, 0, None])
    assert off.banks is None                                 # paste_prob 0: nothing cut, nothing pasted
    for i in range(4):
        assert np.array_equal(plain[i]["image"].numpy(), off[i]["image"].numpy())
    on = DetectionDataset(samples, AugmentConfig(size=128, infer_long_side=320, paste_prob=1.0, paste_words=3,
                                                 paste_height=(12, 20)), seed=1, paste_groups=[0, 0, 0, None])
    assert np.array_equal(plain[3]["image"].numpy(), on[3]["image"].numpy())   # no group: untouched
    img, polys, ignore = on._paste(np.random.default_rng(0), _photo(9), [], [], 0)
    assert len(polys) >= 1 and not any(ignore)
    with pytest.raises(ValueError, match="paste groups"):
        DetectionDataset(samples, aug, paste_groups=[0])


def test_paste_settings_are_checked():
    with pytest.raises(ValueError, match="paste_height"):
        AugmentConfig(paste_height=(40.0, 10.0))
    with pytest.raises(ValueError, match="paste_prob"):
        AugmentConfig(paste_prob=1.5)


def test_pasting_needs_a_word_labelled_source(tmp_path, tiny_set):
    from dataclasses import replace

    from models.train import TrainConfig, Trainer

    lines = tmp_path / "lines.toml"
    lines.write_text(f'[[source]]\nname = "docs"\npath = "{tiny_set}"\n')
    cfg = TrainConfig(data=str(lines), workdir=str(tmp_path / "run"), batch_size=2, input_size=128, workers=0,
                      max_steps=1, eval_limit=1)
    cfg = replace(cfg, augment=replace(cfg.augment, paste_prob=0.5))
    with pytest.raises(ValueError, match="granularity"):
        Trainer(cfg)


def test_a_word_at_the_photo_border_still_fades_out_at_the_patch_edge():
    img = _photo(5)
    img[0:20, 0:80] = 250                                    # a word touching the top-left corner
    patch = cut_word(img, _word_quad(0, 0, 80, 20))
    assert patch is not None
    assert patch.mask[0].max() == 0 and patch.mask[:, 0].max() == 0
