"""A fine-tune started from a dataset saved with "Add to dataset" runs (#14.2): the training
tab lists it, checks it, trains on it from the served weights and offers the new weights."""
from __future__ import annotations

import time
from pathlib import Path

import cv2
import pytest

from app.web.context import WebContext
from app.web.jobs import DONE, RUNNING
from app.web.service import DetectorService
from app.web.settings import AppSettings, ModelSettings, StorageSettings
from app.web.tabs import train
from conftest import text_like_image
from models.data.writer import DatasetWriter


def _ctx(tmp: Path, weights: Path) -> WebContext:
    settings = AppSettings(storage=StorageSettings(output_dir=tmp / "out", workdir_root=tmp / "work",
                                                   allowed_roots=(tmp / "data",)),
                           model=ModelSettings(weights=weights, device="cpu", backend="torch"))
    return WebContext(settings, DetectorService(settings.model, background_build=False))


@pytest.mark.timeout(600)
def test_fine_tune_from_a_saved_dataset_runs_and_offers_its_weights(tmp_path, random_weights):
    ctx = _ctx(tmp_path, random_weights)
    writer = DatasetWriter(tmp_path / "data" / "fixed")
    for seed in range(2):
        image = tmp_path / f"page{seed}.png"
        cv2.imwrite(str(image), text_like_image(160, 200, seed))
        writer.add(image, [([[10, 20], [150, 20], [150, 32], [10, 32]], ""),
                           ([[12, 50], [140, 52], [140, 64], [12, 62]], "tilted")])
    listed = train.dataset_choices(ctx)
    assert listed == [str(tmp_path / "data" / "fixed")]
    batch = train.finetune_batch(ctx, listed[0], 8)       # one click with the default 8: fitted to 2 images
    assert batch == 2
    message = train.start_training(ctx, listed[0], batch_size=batch, epochs=1, lr=0.007, from_current=True)
    assert "train: 2 images, 4 regions" in message
    deadline = time.time() + 540
    while ctx.jobs.snapshot().state == RUNNING and time.time() < deadline:
        time.sleep(0.5)
    snap = ctx.jobs.snapshot()
    assert snap.state == DONE, (snap.error, snap.events[-5:])
    config = next(e["config"] for e in snap.events if e.get("type") == "config")
    assert config["init_weights"] == str(random_weights)            # fine-tuned from the served weights
    weights = train.new_weights(snap)
    assert weights is not None and weights.is_file()                # "use the new weights" is offered
