"""Where "Add to dataset" may write (#14.2): names go under the first allowed root, paths must
stay inside one, and the roots themselves are never written into; the listing finds datasets."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from app.io.dataset_folders import find_datasets
from app.web.guards import resolve_new_folder
from models.data.writer import DatasetWriter


def test_names_and_paths_inside_the_roots(tmp_path):
    root, other = tmp_path / "data", tmp_path / "more"
    root.mkdir()
    other.mkdir()
    assert resolve_new_folder(" my_set ", [root, other]) == root / "my_set"
    assert resolve_new_folder(str(other / "a" / "b"), [root, other]) == other / "a" / "b"


@pytest.mark.parametrize("attempt, error", [
    ("", ValueError), ("..", PermissionError), ("../outside", PermissionError), ("/etc", PermissionError),
    ("{root}", PermissionError), ("{root}/../x", PermissionError), ("{root}/link/x", PermissionError),
    ("{root}/file.txt", NotADirectoryError),
])
def test_refused_targets(tmp_path, attempt, error):
    root = tmp_path / "data"
    root.mkdir()
    (root / "file.txt").write_text("x")
    (root / "link").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(error):
        resolve_new_folder(attempt.format(root=root), [root])
    with pytest.raises(PermissionError):
        resolve_new_folder("name", [])


def test_listing_finds_datasets_two_levels_down(tmp_path):
    rect = [[1, 1], [20, 1], [20, 20], [1, 20]]
    image = tmp_path / "a.png"
    cv2.imwrite(str(image), np.zeros((30, 30, 3), np.uint8))
    DatasetWriter(tmp_path / "data" / "one").add(image, [(rect, "x")])
    DatasetWriter(tmp_path / "data" / "group" / "two").add(image, [(rect, "x")], split="test")
    DatasetWriter(tmp_path / "data" / "pp", layout="paddle").add(image, [(rect, "x")])
    (tmp_path / "data" / "plain").mkdir()
    data = tmp_path / "data"
    assert find_datasets([data]) == [data / "group" / "two", data / "one", data / "pp" / "images"]   # trainable folders
