"""Dataset formats users bring (ICDAR 2013 boxes, PaddleOCR label files) and training mixes."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from models.data.icdar import DatasetError, parse_gt_line, read_split, validate_dataset
from models.data.mix import (
    DataSource,
    load_sources,
    parse_source_spec,
    read_mix_file,
    resolve_sources,
    sample_weights,
    split_holdout,
)


def _image(path, w=64, h=48):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((h, w, 3), 255, np.uint8))


def test_icdar2013_boxes_with_commas_or_spaces_are_clockwise_quads():
    for line in ('178, 11, 209, 25, "flying"', '178 11 209 25 "flying"', "178,11,209,25,flying"):
        r = parse_gt_line(line, "x")
        assert r.text == "flying" and not r.ignore
        np.testing.assert_array_equal(r.points, [[178, 11], [209, 11], [209, 25], [178, 25]])
    assert parse_gt_line('1, 2, 30, 40, "a, b"', "x").text == "a, b"
    assert parse_gt_line('1, 2, 30, 40, "###"', "x").ignore
    assert parse_gt_line('144, 256, 144, 264, "l"', "x").ignore          # zero width: don't care
    with pytest.raises(DatasetError, match="line 7.*right >= left"):
        parse_gt_line('50, 2, 30, 40, "x"', "gt_a.txt, line 7")
    # An ICDAR 2015 line is still read as points, whatever its text starts with.
    assert parse_gt_line("1,2,3,4,5,6,7,8,2024", "x").points.shape == (4, 2)


def test_icdar2013_folder_reads_like_icdar2015(tmp_path):
    _image(tmp_path / "train_images" / "img_1.png")
    (tmp_path / "train_gts").mkdir()
    (tmp_path / "train_gts" / "gt_img_1.txt").write_text('3, 4, 40, 20, "Sale"\n10 25 50 40 "Now"\n')
    samples = read_split(tmp_path, "train")
    assert [r.text for r in samples[0].regions] == ["Sale", "Now"]


def _paddle_set(root, lines, name="label.txt"):
    _image(root / "images" / "a.jpg")
    _image(root / "images" / "b.jpg")
    (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_paddleocr_label_file_is_read_with_ignores_and_polygons(tmp_path):
    quad = [[1, 2], [30, 2], [30, 12], [1, 12]]
    poly = [[1, 20], [20, 18], [40, 20], [40, 30], [20, 32], [1, 30]]
    _paddle_set(tmp_path, [
        "images/a.jpg\t" + json.dumps([{"transcription": "TOTAL", "points": quad},
                                      {"transcription": "###", "points": quad},
                                      {"transcription": "x", "points": poly, "difficult": True}]),
        "images/b.jpg\t[]",
    ])
    summary = validate_dataset(tmp_path)
    assert summary.splits == {"train": 2} and summary.regions == {"train": 3}
    a = read_split(tmp_path, "train")[0]
    assert [r.ignore for r in a.regions] == [False, True, True]
    assert a.regions[2].points.shape == (6, 2)


def test_ppocrlabel_paths_start_with_the_image_folder(tmp_path):
    # PPOCRLabel writes Label.txt inside the image folder, paths prefixed by its name.
    folder = tmp_path / "shots"
    _image(folder / "a.jpg")
    (folder / "Label.txt").write_text('shots/a.jpg\t[{"transcription": "hi", "points": [[1,1],[9,1],[9,5],[1,5]]}]\n')
    assert read_split(folder, "train")[0].image_path == folder / "a.jpg"


@pytest.mark.parametrize("line, message", [
    ("images/a.jpg [{}]", "TAB"),
    ("images/a.jpg\t[{oops", "not valid JSON"),
    ("images/a.jpg\t{}", "JSON list"),
    ('images/a.jpg\t[{"transcription": "x"}]', "region 1"),
    ('images/a.jpg\t[{"transcription": "x", "points": [[1, 2], [3, 4], [5, 6]]}]', "at least 4 points"),
    ('images/zz.jpg\t[]', "zz.jpg not found"),
])
def test_bad_paddleocr_labels_name_the_line(tmp_path, line, message):
    _paddle_set(tmp_path, ['images/b.jpg\t[]', line])
    with pytest.raises(DatasetError, match=f"label.txt, line 2.*{message}|{message}"):
        validate_dataset(tmp_path)


def test_paddleocr_test_split_comes_from_test_label_txt(tmp_path):
    _paddle_set(tmp_path, ["images/a.jpg\t[]"], name="train_label.txt")
    (tmp_path / "test_label.txt").write_text("images/b.jpg\t[]\n")
    assert validate_dataset(tmp_path).splits == {"train": 1, "test": 1}


def test_source_specs_and_mix_files(tmp_path):
    assert parse_source_spec("data/a") == DataSource("data/a")
    assert parse_source_spec("data/a:2.5") == DataSource("data/a", 2.5)
    assert parse_source_spec("C:/x:y") == DataSource("C:/x:y")   # a colon that is no weight
    with pytest.raises(DatasetError, match="positive"):
        parse_source_spec("data/a:0")
    mix = tmp_path / "mix.toml"
    mix.write_text('seed = 7\n[[source]]\npath = "a"\nweight = 3\nholdout = 2\n[[source]]\npath = "/abs/b"\n')
    sources, seed = read_mix_file(mix)
    assert seed == 7
    assert sources == [DataSource(str(tmp_path / "a"), 3.0, 2), DataSource("/abs/b", 1.0, 0)]
    mix.write_text('[[source]]\npath = "a"\ngranularity = "words"\n[[source]]\npath = "b"\n')
    assert [s.granularity for s in read_mix_file(mix)[0]] == ["words", "lines"]
    mix.write_text('[[source]]\npath = "a"\ngranularity = "word"\n')
    with pytest.raises(DatasetError, match="granularity is one of lines, words"):
        read_mix_file(mix)
    mix.write_text('[[source]]\npath = "a"\nwieght = 3\n')
    with pytest.raises(DatasetError, match="unknown keys"):
        read_mix_file(mix)
    with pytest.raises(DatasetError, match="share the name"):
        resolve_sources(["x/a", "y/a"])


def test_holdout_is_fixed_by_the_seed_and_disjoint(tmp_path):
    for i in range(10):
        _image(tmp_path / "train_images" / f"{i}.png")
    (tmp_path / "train_gts").mkdir()
    for i in range(10):
        (tmp_path / "train_gts" / f"{i}.txt").write_text("")
    samples = read_split(tmp_path, "train")
    train, val = split_holdout(samples, 3, seed=1)
    train2, val2 = split_holdout(list(reversed(samples)), 3, seed=1)
    assert [s.image_path for s in val] == [s.image_path for s in val2]     # order of reading does not matter
    assert len(train) == 7 and not {s.image_path for s in train} & {s.image_path for s in val}
    assert [s.image_path for s in split_holdout(samples, 3, seed=2)[1]] != [s.image_path for s in val]
    with pytest.raises(DatasetError, match="nothing would be left"):
        split_holdout(samples, 10, seed=1)
    loaded = load_sources([DataSource(str(tmp_path), 1.0, 3)], seed=1)
    assert (len(loaded[0].train), len(loaded[0].val)) == (7, 3)


def test_sampling_weights_give_each_source_its_share(tmp_path):
    from models.data.mix import LoadedSource

    big = LoadedSource(DataSource("big", 1.0), train=[object()] * 90)
    small = LoadedSource(DataSource("small", 3.0), train=[object()] * 10)
    w = sample_weights([big, small])
    assert w.shape == (100,) and abs(w.sum() - 1) < 1e-9
    assert abs(w[90:].sum() - 0.75) < 1e-9       # 3 : 1 by weight, not 10 : 90 by size
