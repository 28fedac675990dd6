"""Train the script guard (``models/script_guard.py``): is a text line CJK or not?

Strips come from the *training* parts of a mix (validation holdouts excluded, as for the
detector): renders, whose ground truth holds the text and so the script (Chinese and
Latin lines), plus the real Latin photos and scans (street photos, receipts, forms, web
graphics), so that real Latin words are seen in real light. Each line is scaled as the
detector scales its image, grown by a random margin (the detector's boxes are a little
larger than the labels), straightened and standardised exactly as at run time.

    .venv/bin/python scripts/train_script_guard.py \
        --mix scripts/mixes/release2.toml --extra data_cache/synth_v2_idcard_scene \
        --output weights/script_guard.npz

Since the twenty-sixth stop it also draws ``--synthetic`` single lines of its own
(``models/synth/script_strips.py``: the renderer's strings, fonts and backgrounds, many of
them short, large, stylised or widely spaced), half of them CJK; a tenth of them is held out
like every source.

Reproducible from its seed; prints the held-out accuracy per source and writes the
weights as numpy arrays (the product runs the network in ONNX Runtime, no torch needed).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.config import DetectorConfig
from models.data.icdar import read_split
from models.data.mix import load_sources, read_mix_file
from models.preprocess import resize_for_model
from models.script_guard import CHANNELS, MIN_STRIP_WIDTH, STRIP_HEIGHT, line_strip, network_arrays, torch_network
from models.synth.script_strips import script_strips
from models.word_split import MIN_ASPECT

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def grown(q: np.ndarray, sides: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``q`` grown about its centre by a random margin of up to half its height, along both
    of its own axes (the detector's unclipped boxes sit a little outside the labels)."""
    edge = q[1] - q[0] if sides[0] >= sides[1] else q[2] - q[1]
    u = edge / (np.linalg.norm(edge) + 1e-6)
    v = np.array([-u[1], u[0]], np.float32)
    height = min(sides[0], sides[1])
    centre = q.mean(axis=0)
    d = q - centre
    along = (d @ u)[:, None] * u
    across = (d @ v)[:, None] * v
    half_len = max(float(np.abs(d @ u).max()), 1.0)
    return centre + along * (1.0 + rng.uniform(0.0, 0.25) * height / half_len) + across * (1.0 + rng.uniform(0.0, 0.5))


def strips_of(samples, rng: np.random.Generator, limit: int) -> Tuple[List[np.ndarray], List[int]]:
    """Standardised strips and labels (1 = CJK) of the samples' cuttable lines, at most ``limit``."""
    cfg = DetectorConfig()
    xs, ys = [], []
    for s in samples:
        bgr = cv2.imread(str(s.image_path))
        if bgr is None:
            continue
        padded, info = resize_for_model(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), cfg)
        gray = cv2.cvtColor(padded, cv2.COLOR_RGB2GRAY)
        for r in s.regions:
            if r.ignore or len(r.points) != 4 or not r.text.strip():
                continue
            q = np.asarray(r.points, np.float32).reshape(4, 2) * [info.scale_x, info.scale_y]
            sides = np.linalg.norm(np.roll(q, -1, axis=0) - q, axis=1)
            height, length = min(sides[0], sides[1]), max(sides[0], sides[1])
            if height < 4 or length < MIN_ASPECT * height:
                continue
            q = grown(q, sides, rng)
            strip = line_strip(gray, q)
            if strip is None:
                continue
            xs.append(strip)
            ys.append(int(bool(CJK.search(r.text))))
            if len(xs) >= limit:
                return xs, ys
    return xs, ys


def _covered_by(quad: np.ndarray, gt: np.ndarray) -> float:
    """The share of ``quad``'s area inside ``gt`` (both 4x2, convex)."""
    area = cv2.contourArea(quad.astype(np.float32))
    if area <= 0:
        return 0.0
    inter, _ = cv2.intersectConvexConvex(quad.astype(np.float32), gt.astype(np.float32))
    return float(inter) / area


def detected_strips(samples, limit: int) -> Tuple[List[np.ndarray], List[int]]:
    """Strips of the lines the detector itself draws and asks the guard about (PyTorch, every
    image read by word so that every cuttable line is asked), each labelled by the script of
    the ground-truth line that holds most of it (at least half; else skipped). Why: the guard
    learned from ground-truth lines grown by random margins, but at run time it reads the
    detector's boxes, which can end mid-line or take in a neighbour; these are the strips it
    actually sees."""
    from models import postprocess
    from models.detector import TextDetector
    from models.script_guard import load_guard

    asked: List[Tuple[np.ndarray, List[np.ndarray]]] = []

    class Recorder:
        def cjk_probability(self, gray, quads):
            asked.append((gray, [np.asarray(q, np.float32).reshape(4, 2) for q in quads]))
            return load_guard().cjk_probability(gray, quads)

    cfg = DetectorConfig(granularity="words", zoom_words=1.0)
    detector = TextDetector(config=cfg, backend="torch", device="cpu")
    real = postprocess.load_guard
    postprocess.load_guard = Recorder
    xs, ys = [], []
    try:
        for s in samples:
            bgr = cv2.imread(str(s.image_path))
            if bgr is None:
                continue
            _, info = resize_for_model(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), cfg)
            gts = [(np.asarray(r.points, np.float32).reshape(4, 2) * [info.scale_x, info.scale_y],
                    bool(CJK.search(r.text))) for r in s.regions
                   if not r.ignore and len(r.points) == 4 and r.text.strip()]
            asked.clear()
            detector.detect(bgr[:, :, ::-1].copy())
            for gray, quads in asked[:1]:          # the first look: the image as the detector sizes it
                if gray.shape[:2] != (info.resized_h, info.resized_w):
                    continue
                for q in quads:
                    cover = [(_covered_by(q, g), cjk) for g, cjk in gts]
                    best = max(cover, default=(0.0, False))
                    strip = line_strip(gray, q)
                    if best[0] >= 0.5 and strip is not None:
                        xs.append(strip)
                        ys.append(int(best[1]))
            if len(xs) >= limit:
                break
    finally:
        postprocess.load_guard = real
    return xs, ys


def batchify(strips: List[np.ndarray], width: int, rng: np.random.Generator) -> np.ndarray:
    """Random ``width`` crops (zero-padded when shorter), inverted half the time (light on dark)."""
    out = np.zeros((len(strips), 1, STRIP_HEIGHT, width), np.float32)
    for i, s in enumerate(strips):
        if s.shape[1] > width:
            start = int(rng.integers(0, s.shape[1] - width + 1))
            s = s[:, start:start + width]
        out[i, 0, :, :s.shape[1]] = -s if rng.random() < 0.5 else s
    return out


def report(title: str, guard, held: Dict[str, Tuple[List[np.ndarray], List[int]]]) -> None:
    """Held-out accuracy per source of ``guard`` (the shipped ONNX graph, full strips)."""
    print(f"held-out strips, {title}: accuracy, CJK found, Latin kept Latin")
    for name, (xs, ys) in held.items():
        p = np.array([guard.strip_probability(s) for s in xs]) >= 0.5
        t = np.asarray(ys, bool)
        cjk = f"{(p & t).sum() / t.sum():.3f}" if t.any() else "-"
        lat = f"{(~p & ~t).sum() / (~t).sum():.3f}" if (~t).any() else "-"
        print(f"  {name}: {len(ys)} strips, accuracy {(p == t).mean():.3f}, CJK found {cjk}, Latin kept Latin {lat}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mix", default="scripts/mixes/release2.toml", help="mix file: its training parts are used")
    ap.add_argument("--extra", nargs="*", default=["data_cache/synth_v2_idcard_scene"],
                    help="more rendered folders (their train split): the ID-card and scene renders")
    ap.add_argument("--per-source", type=int, default=10000, help="strips per source, at most")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--repeat", nargs="*", default=["icdar2015=3"], metavar="SOURCE=K",
                    help="train on a source's lines K times, each with new random margins (the street photos: "
                         "real Latin in real light is the rarest kind of strip)")
    ap.add_argument("--synthetic", type=int, default=40000,
                    help="single lines drawn for the guard (half CJK; 0 = none), a tenth held out")
    ap.add_argument("--detected", nargs="*", default=[], metavar="SOURCE[:CATEGORIES]",
                    help="also the lines the detector draws on these sources' training images (a mix source's "
                         "name, with the render categories to take, e.g. renders:packaging,scene,id_card icdar2015)")
    ap.add_argument("--detected-limit", type=int, default=3000, help="detected strips per source, at most")
    ap.add_argument("--detected-repeat", type=int, default=5,
                    help="train on each detected strip this many times (they are few: a line or two per image)")
    ap.add_argument("--channels", default=",".join(map(str, CHANNELS)),
                    help="convolution widths of the four stages (the run-time cost grows with them)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", default="weights/script_guard.npz")
    ap.add_argument("--compare", nargs="*", default=[], metavar="NPZ",
                    help="guards to score on the same held-out strips (e.g. the shipped one, copied aside first)")
    args = ap.parse_args(argv)

    import torch
    torch.manual_seed(args.seed)
    try:
        repeats = {k: int(v) for k, v in (r.split("=", 1) for r in args.repeat)}
    except ValueError:
        ap.error("--repeat takes SOURCE=K, e.g. icdar2015=3")
    try:
        channels = tuple(int(c) for c in args.channels.split(","))
    except ValueError:
        channels = ()
    if not channels or min(channels) < 1:
        ap.error(f"--channels takes positive convolution widths, e.g. 16,32,64,96 (got {args.channels!r})")
    rng = np.random.default_rng(args.seed)
    sources, seed = read_mix_file(args.mix)
    named = [(ls.source.label, ls.train) for ls in load_sources(sources, seed)]
    named += [(Path(p).name, read_split(p, "train")) for p in args.extra]
    train_x, train_y, held = [], [], {}
    for name, samples in named:
        order = rng.permutation(len(samples))
        chosen = [samples[i] for i in order]
        xs, ys = strips_of(chosen, rng, args.per_source)
        cut = max(1, len(xs) // 10)            # a tenth of each source's strips is held out
        held[name] = (xs[:cut], ys[:cut])
        train_x += xs[cut:]
        train_y += ys[cut:]
        for _ in range(repeats.get(name, 1) - 1):   # the same lines again, grown by other margins
            more_x, more_y = strips_of(chosen, rng, args.per_source)
            train_x += more_x[cut:]
            train_y += more_y[cut:]
        print(f"{name}: {len(xs)} strips, {sum(ys)} CJK", flush=True)
    for spec in args.detected:
        name, _, cats = spec.partition(":")
        samples = dict(named).get(name)
        if samples is None:
            ap.error(f"--detected {spec}: no source {name!r} in {args.mix} or --extra")
        if cats:
            listing = Path(samples[0].image_path).parent.parent / "train_categories.json" if samples else None
            if listing is None or not listing.is_file():
                ap.error(f"--detected {spec}: {name} lists no categories (train_categories.json: renders have one)")
            categories = json.loads(listing.read_text(encoding="utf-8"))
            samples = [x for x in samples if categories.get(x.image_path.stem) in cats.split(",")]
        order = rng.permutation(len(samples))
        xs, ys = detected_strips([samples[i] for i in order], args.detected_limit)
        cut = max(1, len(xs) // 10)
        held[f"{spec} (detected)"] = (xs[:cut], ys[:cut])
        train_x += xs[cut:] * args.detected_repeat
        train_y += ys[cut:] * args.detected_repeat
        print(f"{spec} (detected): {len(xs)} strips, {sum(ys)} CJK", flush=True)
    if args.synthetic:
        xs, ys = script_strips(args.synthetic, args.seed + 1)
        cut = max(1, len(xs) // 10)
        held["synthetic lines"] = (xs[:cut], ys[:cut])
        train_x += xs[cut:]
        train_y += ys[cut:]
        print(f"synthetic lines: {len(xs)} strips, {sum(ys)} CJK", flush=True)
    y = np.asarray(train_y, np.float32)
    pos_weight = torch.tensor((len(y) - y.sum()) / max(y.sum(), 1.0))
    net = torch_network(channels)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = args.epochs * (len(train_x) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    t0, step = time.time(), 0
    for epoch in range(args.epochs):
        order = rng.permutation(len(train_x))
        for k in range(0, len(order) - 63, 64):
            idx = order[k:k + 64]
            xb = torch.from_numpy(batchify([train_x[i] for i in idx], MIN_STRIP_WIDTH, rng))
            yb = torch.from_numpy(y[idx])[:, None]
            loss = loss_fn(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}, {time.time() - t0:.0f} s", flush=True)
    weights = network_arrays(net)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **weights)

    from models.script_guard import ScriptGuard
    report("the new guard", ScriptGuard(weights), held)
    for path in args.compare:
        report(path, ScriptGuard.load(path), held)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
