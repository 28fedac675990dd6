"""Run the PP-OCRv4 mobile detector (rapidocr-onnxruntime 1.4.4, its defaults, detection
only) over a folder and write ``res_<stem>.txt`` files that `python -m app evaluate
--predictions` scores, with the seconds per image in a ``times.json``.

This is the measuring stick of the model card, never a dependency: its wheel pulls
``opencv-python`` (clashing with our headless OpenCV) and its own onnxruntime, so it runs
in a separate virtual environment:

    python3 -m venv .venv-peer && .venv-peer/bin/pip install rapidocr-onnxruntime==1.4.4
    .venv-peer/bin/python -m bench.peer_detect data_cache/val_release2/test_images --output outputs/peer_val
    .venv/bin/python -m app evaluate --data data_cache/val_release2 --predictions outputs/peer_val --by-category

Stems follow `python -m app detect` (``sub/dir/x.jpg`` -> ``sub__dir__x``, as
``app.io.outputs.output_stem``, which this environment cannot import: it has no torch).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.pseudo_label import image_extensions


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="folder of images (recursive)")
    ap.add_argument("--output", required=True, help="folder for res_<stem>.txt")
    args = ap.parse_args()
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        print("ERROR: run this with the peer's own venv (see the docstring)", file=sys.stderr)
        return 2
    engine = RapidOCR()
    root, out = Path(args.input), Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    exts = image_extensions()
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in exts)
    times = {}
    for path in files:
        stem = "__".join(path.relative_to(root).with_suffix("").parts)
        t0 = time.perf_counter()
        result, _ = engine(str(path), use_det=True, use_cls=False, use_rec=False)
        times[stem] = time.perf_counter() - t0
        lines = [",".join(str(int(round(v))) for pt in box for v in pt) for box in (result or [])]
        (out / f"res_{stem}.txt").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    (out / "times.json").write_text(json.dumps(times, indent=1), encoding="utf-8")
    secs = sorted(times.values())
    print(f"{len(files)} images, median {secs[len(secs) // 2]:.3f} s/image" if secs else "no images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
