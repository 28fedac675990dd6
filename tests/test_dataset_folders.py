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


def test_batch_editor_opens_only_processed_folders_of_this_server(tmp_path):
    import json
    from types import SimpleNamespace

    import gradio as gr

    from app.io.results_dataset import processed_folders, read_result, result_names
    from app.web.tabs.batch import neighbour, processed_folder

    out = tmp_path / "outputs"
    run = out / "batch_x"
    (run / "json").mkdir(parents=True)
    for stem, ok in (("a", True), ("b", False), ("c", True)):
        (run / "json" / f"{stem}.json").write_text(json.dumps({"success": ok, "image_path": str(tmp_path / "a.png"),
                                                                "boxes": []}))
    (tmp_path / "elsewhere" / "json").mkdir(parents=True)
    ctx = SimpleNamespace(settings=SimpleNamespace(storage=SimpleNamespace(output_dir=out)))
    assert processed_folders(out) == [run] and processed_folder(ctx, str(run)) == run
    for bad in (str(tmp_path / "elsewhere"), str(out), str(run / ".." / ".." / "elsewhere"), ""):
        with pytest.raises(gr.Error):
            processed_folder(ctx, bad)
    assert result_names(run) == ["a", "c"]                       # failures are not offered
    with pytest.raises(FileNotFoundError):
        read_result(run, "../../elsewhere/x")
    assert read_result(run, "c")[1] is None                      # its image is gone
    assert [neighbour(["a", "c"], "a", 1), neighbour(["a", "c"], "c", 1), neighbour(["a", "c"], "a", -1),
            neighbour(["a", "c"], "zz", 1), neighbour([], "a", 1)] == ["c", "c", "a", "a", None]
