"""What text recognition adds: seconds per image and how well it reads receipts.

    .venv/bin/python -m bench.recognition [--mix scripts/mixes/release2.toml] [--source wildreceipt]
                                          [--limit 50] [--no-detector]

Images: the validation images that the mix file holds out of training for ``--source``
(release 2: the 50 WildReceipt receipts its seed keeps out), so the detector never saw them.
Two rows:

* ``ground-truth quads``: the recogniser alone, on every labelled (non-``###``) region;
  this is the model's reading quality, independent of the detector.
* ``detected, matched``: the whole pipeline (``TextDetector()`` as users get it, then
  ``TextRecognizer.annotate``) on the same images; accuracy over the detected boxes that
  match a labelled one (IoU > 0.5, one to one), seconds per image over all images.

Character accuracy is ``1 - edit distance / max(len(truth), len(read))`` per box, averaged
(PaddleOCR's ``norm_edit_dis``); exact = the share of boxes read exactly. WildReceipt's
transcriptions carry no spaces, so whitespace is removed from both sides before comparing;
case and punctuation count. Pause background jobs while timing: the numbers are only as
quiet as the machine.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from shapely.geometry import Polygon

from app.cli.options import add_options, config_from_args
from app.measure.tables import markdown_table, text_table
from models import TextDetector, load_image
from models.data.mix import load_sources, read_mix_file
from models.data.regions import Sample
from models.postprocess import order_clockwise
from models.recognition import RecognizerConfig, TextRecognizer

ROOT = Path(__file__).resolve().parent.parent
HEADERS = ("boxes read", "images", "boxes", "det s/image", "rec s/image", "rec ms/box", "char accuracy",
           "exact match")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _norm(text: str) -> str:
    return "".join(text.split())


def accuracy(pairs: Sequence[Tuple[str, str]]) -> Tuple[float, float]:
    """(mean character accuracy, exact-match rate) over (truth, read) pairs."""
    if not pairs:
        return 0.0, 0.0
    chars, exact = [], 0
    for truth, read in pairs:
        t, r = _norm(truth), _norm(read)
        longest = max(len(t), len(r))
        chars.append(1.0 - edit_distance(t, r) / longest if longest else 1.0)
        exact += t == r
    return float(np.mean(chars)), exact / len(pairs)


def held_out(mix: Path, source: str, limit: int) -> List[Sample]:
    """The validation samples of ``source`` in the mix (never trained on)."""
    sources, seed = read_mix_file(mix)
    chosen = [s for s in sources if s.name == source]
    if not chosen:
        raise SystemExit(f"{mix} has no source named {source!r} (has: {', '.join(s.name for s in sources)})")
    [loaded] = load_sources(chosen, seed)
    if not loaded.val:
        raise SystemExit(f"{source} has no held-out images in {mix}")
    return loaded.val[:limit]


def _quad(points: np.ndarray) -> np.ndarray:
    """A labelled region as 4 points clockwise from the top-left (polygons: their min-area box)."""
    pts = np.asarray(points, np.float32).reshape(-1, 2)
    if len(pts) != 4:
        pts = cv2.boxPoints(cv2.minAreaRect(pts))
    return order_clockwise(pts).astype(np.float32)


def _labelled(sample: Sample) -> Tuple[List[np.ndarray], List[str]]:
    keep = [r for r in sample.regions if not r.ignore and r.text.strip()]
    return [_quad(r.points) for r in keep], [r.text for r in keep]


def match(pred: Sequence[np.ndarray], truth: Sequence[np.ndarray], iou: float = 0.5) -> List[Tuple[int, int]]:
    """One-to-one (pred index, truth index) pairs with IoU above ``iou``, best first."""
    def poly(q: np.ndarray) -> Polygon:
        return Polygon(np.asarray(q, np.float64).reshape(-1, 2)).buffer(0)

    p_polys, t_polys = [poly(p) for p in pred], [poly(t) for t in truth]
    cands = []
    for i, p in enumerate(p_polys):
        for j, t in enumerate(t_polys):
            if p.area <= 0 or t.area <= 0 or not p.intersects(t):
                continue
            inter = p.intersection(t).area
            score = inter / (p.area + t.area - inter)
            if score > iou:
                cands.append((score, i, j))
    used_p, used_t, pairs = set(), set(), []
    for _, i, j in sorted(cands, reverse=True):
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            pairs.append((i, j))
    return pairs


def on_ground_truth(rec: TextRecognizer, samples: Sequence[Sample]) -> Tuple[list, List[Tuple[str, str]]]:
    seconds, boxes, pairs = 0.0, 0, []
    for s in samples:
        quads, texts = _labelled(s)
        image = load_image(str(s.image_path))
        t0 = time.perf_counter()
        read = rec.recognize(image, np.array(quads).reshape(-1, 4, 2))
        seconds += time.perf_counter() - t0
        boxes += len(quads)
        pairs += [(t, r) for t, (r, _) in zip(texts, read)]
    n = len(samples)
    char, exact = accuracy(pairs)
    return ["ground-truth quads", n, boxes, None, seconds / n, 1000 * seconds / max(boxes, 1), char, exact], pairs


def on_detections(det: TextDetector, rec: TextRecognizer, samples: Sequence[Sample]) -> Tuple[list, Dict[str, float]]:
    det_s, rec_s, boxes, pairs = 0.0, 0.0, 0, []
    for s in samples:
        result = det.detect(str(s.image_path), keep_image=True)
        det_s += result.timings["total"]
        rec.annotate(result)
        rec_s += result.timings["recognition"]
        boxes += len(result.boxes)
        quads, texts = _labelled(s)
        pairs += [(texts[j], result.texts[i]) for i, j in match(list(result.boxes), quads)]
    n = len(samples)
    char, exact = accuracy(pairs)
    return (["detected, matched", n, f"{len(pairs)} of {boxes}", det_s / n, rec_s / n,
             1000 * rec_s / max(boxes, 1), char, exact], {"matched": len(pairs), "detected": boxes})


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mix", default=str(ROOT / "scripts/mixes/release2.toml"), help="mix file with the holdout")
    ap.add_argument("--source", default="wildreceipt", help="source of the mix whose held-out images are read")
    ap.add_argument("--limit", type=int, default=50, help="at most this many images")
    ap.add_argument("--no-detector", action="store_true", help="only the ground-truth row")
    ap.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads (default: physical cores)")
    ap.add_argument("--examples", type=int, default=8, help="print this many misread boxes")
    add_options(ap, RecognizerConfig, prefix="rec-", title="recognizer settings")
    args = ap.parse_args(argv)

    samples = held_out(Path(args.mix), args.source, args.limit)
    rec = TextRecognizer(config_from_args(RecognizerConfig, args, prefix="rec-"), threads=args.threads)
    rec.recognize(np.full((48, 200, 3), 255, np.uint8), np.array([[[0, 0], [199, 0], [199, 47], [0, 47]]]))  # warm-up
    rows = []
    row, pairs = on_ground_truth(rec, samples)
    rows.append(row)
    if not args.no_detector:
        det = TextDetector(device="cpu")
        det.detect(str(samples[0].image_path))   # warm-up
        print(f"detector: {det.backend_summary}", file=sys.stderr)
        rows.append(on_detections(det, rec, samples)[0])
    print(f"recognizer: {rec.model_id} {rec.params()} · {args.source} held out by {Path(args.mix).name} · "
          f"{platform.processor() or platform.machine()}, {rec.session.get_session_options().intra_op_num_threads} threads")
    print(text_table(HEADERS, rows))
    print()
    print(markdown_table(HEADERS, rows))
    wrong = [(t, r) for t, r in pairs if _norm(t) != _norm(r)]
    if wrong and args.examples:
        print("\nmisread (truth -> read), ground-truth quads:")
        for t, r in wrong[:args.examples]:
            print(f"  {t!r} -> {r!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
