"""Choose post-processing defaults on labelled validation images: one forward pass per
image and size policy (probability maps cached), then a grid over thresh / box_thresh /
unclip_ratio (and granularity, the zoom look: ``--zoom 1,1.5 --zoom-margin 64,4096``, and the mirror look:
``--mirror off,on``; an image's zoomed and mirror maps are run the first time a setting reads
it by word, then cached). Prints P/R/hmean per
source and the mean over sources (the number the defaults are chosen by, so one large source
cannot outvote a small one).

    .venv/bin/python -m bench.tune_postprocess --data scripts/mixes/release2.toml --weights W
    .venv/bin/python -m bench.tune_postprocess --data scripts/mixes/release2.toml --mirror off,on
    .venv/bin/python -m bench.tune_postprocess --data data_cache/synth_v2 --split test

``--data`` takes what `train --data` takes: with a mix file the held-out validation images
of every source are used (the same seeded split as training); a plain folder uses its
``--split``.
"""
from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Dict, List, Tuple

import cv2

from models import DetectorConfig, TextDetector, load_image
from models.backends.auto import BACKENDS
from models.data.icdar import Sample, read_split
from models.data.mix import load_sources, resolve_sources
from models.metrics import DetectionMetric
from models.mirror import all_maps, boxes_with_looks, mirror_input
from models.postprocess import DBPostProcess
from models.preprocess import normalize, resize_for_model
from models.window import Window
from models.zoom import zoomed_look


def validation_sets(specs: List[str], split: str, limit: int) -> Dict[str, List[Sample]]:
    """Source name -> validation samples."""
    if len(specs) == 1 and Path(specs[0]).is_dir():
        sets = {Path(specs[0]).name: read_split(specs[0], split)}
    else:
        sources, seed = resolve_sources(specs)
        sets = {ls.source.label: ls.val for ls in load_sources(sources, seed) if ls.val}
    return {k: (v[:limit] if limit else v) for k, v in sets.items()}


class MirroredMaps:
    """The mirror image's maps of one cached image (``mirror_words``) in a window, run the
    first time a setting asks for that window and kept for the rest of the grid (the window
    follows from the first look's maps and ``mirror_margin``, which the grid does not vary)."""

    def __init__(self, det: TextDetector, padded, cfg: DetectorConfig) -> None:
        self.det, self.padded, self.cfg, self.maps = det, padded, cfg, {}

    def __call__(self, with_words: bool, window: Window):
        if window not in self.maps:   # the first look's cached maps hold both maps, so these do too
            seen = mirror_input(window.crop(self.padded, channels_last=True), channels_last=True)
            self.maps[window] = self.det.backend.run(normalize(seen, self.cfg)[None])[0]
        return self.maps[window]


class ZoomedMaps:
    """The zoom look's maps of one cached image's window (``zoom_words``, ``zoom_margin``),
    shrunk back to the window's shape: run the first time a setting asks for that factor and
    window, then kept for the grid."""

    def __init__(self, det: TextDetector, padded, cfg: DetectorConfig) -> None:
        self.det, self.padded, self.cfg, self.maps = det, padded, cfg, {}

    def __call__(self, with_words: bool, window: Window, factor: float):
        if (factor, window) not in self.maps:   # the backend's maps hold the word map too
            self.maps[factor, window] = zoomed_look(self.padded, factor, self.cfg.max_side, self._run,
                                                    channels_last=True, window=window)
        return self.maps[factor, window]

    def _run(self, seen):
        return all_maps(self.det.backend.run(normalize(seen, self.cfg)[None])[0])


def floats(text: str) -> List[float]:
    return [float(v) for v in text.split(",")]


def ints(text: str) -> List[int]:
    return [int(v) for v in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, action="append", help="as for `train --data`")
    ap.add_argument("--split", default="test", help="split of a plain folder")
    ap.add_argument("--weights")
    ap.add_argument("--limit", type=int, default=0, help="images per source (0 = all)")
    ap.add_argument("--thresh", default="0.25,0.3,0.35")
    ap.add_argument("--box-thresh", default="0.35,0.4,0.45,0.5")
    ap.add_argument("--unclip", default="1.4,1.6,1.8")
    ap.add_argument("--mirror", default="on" if DetectorConfig().mirror_words else "off",
                    help="mirror_words settings to compare, e.g. off,on (DetectorConfig.mirror_words)")
    ap.add_argument("--zoom", default=f"{DetectorConfig().zoom_words:g}",
                    help="zoom_words factors to compare, e.g. 1,1.25 (1 = off; DetectorConfig.zoom_words)")
    ap.add_argument("--cjk-guard", default=f"{DetectorConfig().cjk_guard:g}",
                    help="cjk_guard values to compare, e.g. 0.5,0.7 (a line the script guard finds CJK at this "
                         "probability stays whole; DetectorConfig.cjk_guard)")
    ap.add_argument("--lines-shift", default=f"{DetectorConfig().lines_shift:g}",
                    help="lines_shift values to compare, e.g. 0,0.05 (images read by line cut this much higher; "
                         "DetectorConfig.lines_shift)")
    ap.add_argument("--zoom-margin", default=f"{DetectorConfig().zoom_margin}",
                    help="zoom_margin values to compare, e.g. 64,4096 (4096: the whole image; DetectorConfig.zoom_margin)")
    ap.add_argument("--granularity", default=DetectorConfig().granularity,
                    help="granularities to compare, e.g. lines,auto,words (DetectorConfig.granularity)")
    default = DetectorConfig()
    floor = round(default.min_short_ratio * default.limit_side)
    grow = round(default.min_long_ratio * default.limit_side)
    ap.add_argument("--sizes", default=f"{default.limit_type}:{default.limit_side}:{floor}:{grow}:{default.max_upscale:g}",
                    help="size policies to compare, e.g. max:960,max:1280,min:736; a third number is "
                         "the short side's floor in pixels (max:1280 = none, max:1280:960 = min_short_ratio "
                         "0.75), a fourth the long side smaller images are enlarged to and a fifth the most "
                         "they are enlarged (max:1280:960:1280:4 = min_long_ratio 1.0, max_upscale 4)")
    ap.add_argument("--backend", default="auto", choices=list(BACKENDS),
                    help="the backend whose maps are scored (auto: what users get on this machine)")
    ap.add_argument("--model", help="an .onnx file for --backend onnx|openvino")
    args = ap.parse_args()
    sets = validation_sets(args.data, args.split, args.limit)
    det = TextDetector(weights=args.weights, device="cpu", backend=args.backend, model=args.model)
    print(f"weights {det.model_id} ({det.backend_summary}); validation: " + ", ".join(f"{k} {len(v)}" for k, v in sets.items()) + "\n")
    names = list(sets)
    print("| size | zoom | zoom margin | lines shift | mirror | granularity | cjk guard | thresh | box_thresh | unclip | " + " | ".join(names) + " | mean hmean | P / R (all) |")
    print("|---" * (len(names) + 12) + "|")
    best: Tuple[float, str] | None = None
    for policy in args.sizes.split(","):
        # max:1280; max:1280:640 with a 640 px short-side floor; max:1280:640:1280:4 also enlarges
        # smaller images until the long side is 1280 px, by at most 4x (min_long_ratio, max_upscale)
        kind, side, *rest = policy.split(":")
        unset = [0, 0, default.max_upscale]
        short, grow, most = rest + unset[len(rest):]
        cfg = DetectorConfig(limit_type=kind, limit_side=int(side), min_short_ratio=int(short) / int(side),
                             min_long_ratio=int(grow) / int(side), max_upscale=float(most))
        cached = {}
        for name, samples in sets.items():
            cached[name] = []
            for s in samples:
                padded, info = resize_for_model(load_image(str(s.image_path)), cfg)
                gray = cv2.cvtColor(padded, cv2.COLOR_RGB2GRAY)   # for granularity auto / words
                maps = det.backend.run(normalize(padded, cfg)[None])[0]
                cached[name].append((maps, info, gray, s, MirroredMaps(det, padded, cfg), ZoomedMaps(det, padded, cfg)))
        for zoom, margin, shift, mirror, g, guard, t, bt, u in itertools.product(
                floats(args.zoom), ints(args.zoom_margin), floats(args.lines_shift), args.mirror.split(","),
                args.granularity.split(","), floats(args.cjk_guard), floats(args.thresh), floats(args.box_thresh),
                floats(args.unclip)):
            post = DBPostProcess(cfg.with_overrides(granularity=g, thresh=t, box_thresh=bt, unclip_ratio=u,
                                                    mirror_words=mirror == "on", zoom_words=zoom, zoom_margin=margin,
                                                    lines_shift=shift, cjk_guard=guard))
            total, hmeans = DetectionMetric(), []
            for name in names:
                metric = DetectionMetric()
                for prob, info, gray, s, mirrored, zoomed in cached[name]:
                    quads = boxes_with_looks(post, prob, info, gray, None, mirrored,
                                             zoomed_maps=zoomed)[0].quads
                    metric.update(quads, s.polygons, s.ignore)
                    total.update(quads, s.polygons, s.ignore)
                hmeans.append(metric.result()["hmean"])
            mean = sum(hmeans) / len(hmeans)
            r = total.result()
            row = f"| {policy} | {zoom:g} | {margin} | {shift:g} | {mirror} | {g} | {guard:g} | {t} | {bt} | {u} | " + " | ".join(f"{h:.3f}" for h in hmeans)
            print(f"{row} | **{mean:.3f}** | {r['precision']:.3f} / {r['recall']:.3f} |", flush=True)
            if best is None or mean > best[0]:
                best = (mean, f"size {policy}, zoom {zoom:g}, zoom_margin {margin}, lines_shift {shift:g}, mirror {mirror}, granularity {g}, cjk_guard {guard:g}, thresh {t}, box_thresh {bt}, unclip_ratio {u}")
    print(f"\nbest mean hmean {best[0]:.3f} at {best[1]}")


if __name__ == "__main__":
    main()
