"""The dataset writer (#14.2): what it writes reads back through the trainer's own readers,
appends without touching what is there, and refuses bad labels before writing anything."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from models.data import writer as writer_module
from models.data.icdar import read_split, validate_dataset
from models.data.paddle_label import read_label_file
from models.data.regions import DatasetError
from models.data.writer import DatasetWriter, training_folder

ROTATED = np.array([[30, 10], [120, 40], [110, 70], [20, 40]])
RECT = np.array([[5, 80], [90, 80], [90, 100], [5, 100]])


def _image(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    assert cv2.imwrite(str(path), rng.integers(0, 255, (120, 160, 3), np.uint8))
    return path


def test_new_icdar_dataset_reads_back_points_texts_and_dont_care(tmp_path):
    src = _image(tmp_path / "scan one.png")
    root = tmp_path / "set"
    added = DatasetWriter(root).add(src, [(ROTATED, "1,200 元"), (RECT, "###")])
    assert added.image == root / "train_images" / "scan_one.png"
    assert added.image.read_bytes() == src.read_bytes()                      # stored as is
    assert (root / "train_list.txt").read_text() == "scan_one.png\n"
    [sample] = read_split(root, "train")
    assert [r.text for r in sample.regions] == ["1,200 元", "###"]
    assert [r.ignore for r in sample.regions] == [False, True]
    np.testing.assert_array_equal(sample.regions[0].points, ROTATED)          # rotated quad intact
    summary = validate_dataset(root)
    assert summary.splits == {"train": 1} and summary.regions == {"train": 2}


def test_appending_keeps_earlier_images_and_never_overwrites_a_name(tmp_path):
    root = tmp_path / "set"
    w = DatasetWriter(root)
    first = w.add(_image(tmp_path / "a.png"), [(RECT, "x")])
    second = w.add(_image(tmp_path / "b.png", 1), [(ROTATED, "y"), (RECT, "z")], name="a")
    test = DatasetWriter(root).add(_image(tmp_path / "c.png", 2), [(RECT, "t")], split="test")
    assert second.image.name == "a_2.png" and first.image.read_bytes() != second.image.read_bytes()
    assert (root / "train_list.txt").read_text().splitlines() == ["a.png", "a_2.png"]
    assert test.image == root / "test_images" / "c.png"
    summary = validate_dataset(root)
    assert summary.splits == {"train": 2, "test": 1} and summary.regions == {"train": 3, "test": 1}


def test_a_folder_without_a_list_stays_without_one(tmp_path):
    """A list file would hide the images already there (the reader lists the folder when it is absent)."""
    root = tmp_path / "set"
    (root / "train_gts").mkdir(parents=True)
    (root / "train_images").mkdir()
    _image(root / "train_images" / "old.png")
    (root / "train_gts" / "gt_old.txt").write_text("1,1,20,1,20,20,1,20,old\n")
    DatasetWriter(root).add(_image(tmp_path / "new.png"), [(RECT, "new")])
    assert not (root / "train_list.txt").exists()
    assert sorted(s.image_path.name for s in read_split(root, "train")) == ["new.png", "old.png"]


def test_paddle_layout_reads_back_and_appends(tmp_path):
    root = tmp_path / "ppocr"
    w = DatasetWriter(root, layout="paddle")
    w.add(_image(tmp_path / "a.png"), [(ROTATED, "文本"), (RECT, "###")])
    w.add(_image(tmp_path / "a.jpg", 1), [(RECT, "b")])
    label = root / "images" / "Label.txt"
    lines = label.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("images/a.png\t") and "文本" in lines[0] and lines[1].startswith("images/a_2.jpg\t")
    samples = read_label_file(label)
    assert [len(s.regions) for s in samples] == [2, 1] and samples[0].regions[1].ignore
    np.testing.assert_array_equal(samples[0].regions[0].points, ROTATED)
    assert len(read_split(training_folder(root, "paddle"), "train")) == 2     # what `train --data` reads
    with pytest.raises(ValueError, match="one split"):
        w.add(_image(tmp_path / "c.png"), [(RECT, "c")], split="test")
    for folder in (root, root / "images"):      # ICDAR folders beside its labels would hide them
        with pytest.raises(DatasetError, match="PaddleOCR label file"):
            DatasetWriter(folder)


def test_bad_labels_are_refused_before_anything_is_written(tmp_path):
    root = tmp_path / "set"
    src = _image(tmp_path / "a.png")
    with pytest.raises(DatasetError, match="box 2"):
        DatasetWriter(root).add(src, [(RECT, "ok"), (np.array([[0, 0], [np.nan, 0], [1, 1], [0, 1]]), "x")])
    with pytest.raises(DatasetError, match="line breaks"):
        DatasetWriter(root).add(src, [(RECT, "two\nlines")])
    with pytest.raises(ValueError, match="split"):
        DatasetWriter(root).add(src, [(RECT, "x")], split="val")
    with pytest.raises(ValueError, match="layout"):
        DatasetWriter(root, layout="coco")
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    with pytest.raises(DatasetError, match="not a readable image"):
        DatasetWriter(root).add(bad, [(RECT, "x")])
    assert not root.exists() or not any(p.is_file() and p.suffix != ".lock" and not p.name.startswith(".")
                                        for p in root.rglob("*"))


def test_a_failed_label_write_leaves_the_dataset_as_it_was(tmp_path, monkeypatch):
    root = tmp_path / "set"
    w = DatasetWriter(root)
    w.add(_image(tmp_path / "a.png"), [(RECT, "a")])
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}

    def disk_full(path, text):
        raise OSError("No space left on device")

    monkeypatch.setattr(writer_module, "atomic_write_text", disk_full)
    with pytest.raises(OSError):
        w.add(_image(tmp_path / "b.png"), [(RECT, "b")])
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    assert len(read_split(root, "train")) == 1


def test_exif_rotated_photo_is_stored_upright(tmp_path):
    """Boxes are measured on the upright picture (the detector applies EXIF), so the stored
    image must be upright for every reader, including tools that ignore EXIF."""
    src = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[274] = 6                                    # rotate 90 degrees clockwise to view
    Image.new("RGB", (160, 120), (200, 10, 10)).save(src, exif=exif)
    added = DatasetWriter(tmp_path / "set").add(src, [(RECT, "x")])
    assert added.image.suffix == ".png"
    with Image.open(added.image) as im:
        assert im.size == (120, 160) and im.getexif().get(274, 1) == 1


def test_add_many_skips_bad_items_and_lists_what_was_written_before_a_write_error(tmp_path, monkeypatch):
    from models.data.writer import NewImage

    root = tmp_path / "set"
    good = [NewImage(_image(tmp_path / f"{n}.png", i), [(RECT, n)]) for i, n in enumerate("abc")]
    refused = []
    added = DatasetWriter(root).add_many([good[0], NewImage(tmp_path / "missing.png", [(RECT, "x")]), good[1]],
                                         on_error=lambda item, exc: refused.append(item.source.name))
    assert [a.image.name for a in added] == ["a.png", "b.png"] and refused == ["missing.png"]
    assert (root / "train_list.txt").read_text().splitlines() == ["a.png", "b.png"]   # one list update

    real = writer_module.atomic_write_bytes
    calls = []

    def full_after_one(path, data):
        calls.append(path)
        if len(calls) > 1:
            raise OSError("No space left on device")
        real(path, data)

    monkeypatch.setattr(writer_module, "atomic_write_bytes", full_after_one)
    more = [NewImage(_image(tmp_path / f"{n}.png", 7), [(RECT, n)]) for n in ("d", "e")]
    with pytest.raises(OSError):
        DatasetWriter(root).add_many(more)
    assert (root / "train_list.txt").read_text().splitlines() == ["a.png", "b.png", "d.png"]
    assert [s.image_path.name for s in read_split(root, "train")] == ["a.png", "b.png", "d.png"]
