"""Choose post-processing defaults on a labelled validation split: one forward pass per image
(probability maps cached), then a grid over thresh / box_thresh / unclip_ratio. Prints a table
of P/R/hmean; the model card's defaults come from it.

    .venv/bin/python -m bench.tune_postprocess --data data_cache/synth_v1 --weights weights/db_resnet18.safetensors
"""
from __future__ import annotations

import argparse
import itertools

from models import DetectorConfig, TextDetector, load_image
from models.data.icdar import read_split
from models.metrics import DetectionMetric
from models.postprocess import DBPostProcess
from models.preprocess import prepare


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--weights")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--thresh", default="0.2,0.3")
    ap.add_argument("--box-thresh", default="0.3,0.4,0.5,0.6")
    ap.add_argument("--unclip", default="1.5,1.8,2.0,2.3")
    ap.add_argument("--limit-side", type=int, default=DetectorConfig().limit_side, help="size policy for the forward pass")
    ap.add_argument("--limit-type", choices=["max", "min"], default=DetectorConfig().limit_type)
    args = ap.parse_args()
    samples = read_split(args.data, args.split)
    if args.limit:
        samples = samples[: args.limit]
    det = TextDetector(weights=args.weights, device="cpu")
    cfg = DetectorConfig(limit_side=args.limit_side, limit_type=args.limit_type)
    cached = []
    for s in samples:
        x, info = prepare(load_image(str(s.image_path)), cfg)
        cached.append((det.backend.run(x[None])[0], info, s))
    print(f"{len(cached)} images from {args.data} ({args.split}), weights {det.model_id}, "
          f"limit {args.limit_type} {args.limit_side}\n")
    print("| thresh | box_thresh | unclip | precision | recall | hmean |\n|---|---|---|---|---|---|")
    best = None
    for t, bt, u in itertools.product(*(map(float, v.split(",")) for v in (args.thresh, args.box_thresh, args.unclip))):
        post = DBPostProcess(thresh=t, box_thresh=bt, unclip_ratio=u)
        metric = DetectionMetric()
        for prob, info, s in cached:
            metric.update(post(prob, info).quads, s.polygons, s.ignore)
        r = metric.result()
        print(f"| {t} | {bt} | {u} | {r['precision']:.3f} | {r['recall']:.3f} | {r['hmean']:.3f} |", flush=True)
        if best is None or r["hmean"] > best[0]:
            best = (r["hmean"], t, bt, u)
    print(f"\nbest hmean {best[0]:.3f} at thresh {best[1]}, box_thresh {best[2]}, unclip_ratio {best[3]}")


if __name__ == "__main__":
    main()
