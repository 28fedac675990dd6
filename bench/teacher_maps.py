"""Is a teacher worth distilling from? Its probability map scored with our post-processing on the
validation splits, next to our own map and the pixelwise maximum of the two (what a student
that kept its own text and learned the teacher's would see at best).

    .venv/bin/python -m bench.teacher_maps --data scripts/mixes/release2.toml \\
        --teacher .venv-peer/lib/python3.11/site-packages/rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx

The teacher (``app train --teacher FILE``: our weights or an ONNX DB detector,
:func:`models.train.load_teacher`) sees the image exactly as our network does (same size policy,
same padding). Its map replaces our line map; where our network has a word map, that stays
ours in every column (a line-map teacher has no words to give). Shipped post-processing
defaults unless overridden.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from bench.tune_postprocess import validation_sets
from models import DetectorConfig, TextDetector, load_image
from models.metrics import DetectionMetric
from models.postprocess import DBPostProcess
from models.preprocess import normalize, resize_for_model
from models.train import load_teacher

COLUMNS = ("ours", "teacher", "max")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, action="append", help="as for `train --data`")
    ap.add_argument("--split", default="test", help="split of a plain folder")
    ap.add_argument("--weights", help="our weights (default: the release)")
    ap.add_argument("--teacher", required=True, help="as for `train --teacher`")
    ap.add_argument("--limit", type=int, default=0, help="images per source (0 = all)")
    ap.add_argument("--granularity", default=DetectorConfig().granularity)
    args = ap.parse_args()
    sets = validation_sets(args.data, args.split, args.limit)
    cfg = DetectorConfig(granularity=args.granularity)
    det = TextDetector(config=cfg, weights=args.weights, device="cpu", backend="torch")
    teacher = load_teacher(args.teacher)
    post = DBPostProcess(cfg)
    print(f"ours {det.model_id}, teacher {Path(args.teacher).name}; granularity {cfg.granularity}, "
          f"thresh {cfg.thresh}, box_thresh {cfg.box_thresh}, unclip {cfg.unclip_ratio}\n")
    print("| source | images | " + " | ".join(f"{c} P / R / hmean" for c in COLUMNS) + " |")
    print("|---|---:|" + "---|" * len(COLUMNS))
    means = {c: [] for c in COLUMNS}
    for name, samples in sets.items():
        metrics = {c: DetectionMetric() for c in COLUMNS}
        for s in samples:
            padded, info = resize_for_model(load_image(str(s.image_path)), cfg)
            gray = cv2.cvtColor(padded, cv2.COLOR_RGB2GRAY)
            batch = normalize(padded, cfg)[None]
            ours = np.asarray(det.backend.run(batch)[0], np.float32)
            ours = ours[None] if ours.ndim == 2 else ours                      # (C, H, W)
            with torch.no_grad():
                theirs = teacher(torch.from_numpy(batch))[0, :1].float().numpy()
            maps = {"ours": ours, "teacher": np.concatenate([theirs, ours[1:]]),
                    "max": np.concatenate([np.maximum(ours[:1], theirs), ours[1:]])}
            for c in COLUMNS:
                metrics[c].update(post(maps[c], info, gray).quads, s.polygons, s.ignore)
        cells = []
        for c in COLUMNS:
            r = metrics[c].result()
            means[c].append(r["hmean"])
            cells.append(f"{r['precision']:.3f} / {r['recall']:.3f} / **{r['hmean']:.3f}**")
        print(f"| {name} | {len(samples)} | " + " | ".join(cells) + " |", flush=True)
    print("| mean | | " + " | ".join(f"**{np.mean(means[c]):.3f}**" for c in COLUMNS) + " |")


if __name__ == "__main__":
    main()
