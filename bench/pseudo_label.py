"""Label real, unlabelled images with a teacher detector, in the layout `evaluate` reads.

We have no hand-labelled real photos we may ship, but the PP-OCRv4 detector inside the
``rapidocr-onnxruntime`` wheel (Apache-2.0) is a strong line-level detector. Its boxes on
real images give a *teacher-agreement* score for our weights: not ground truth, but a
measured signal on real pixels instead of renders. Run it with a Python that has
rapidocr installed (its ``onnxruntime`` clashes with our ``onnxruntime-gpu``, so keep it
in its own venv):

    python3 -m venv /tmp/teacher && /tmp/teacher/bin/pip install rapidocr-onnxruntime
    /tmp/teacher/bin/python -m bench.pseudo_label docs/real_samples --output outputs/teacher_real
    .venv/bin/python -m app evaluate --data outputs/teacher_real

Writes ``OUTPUT/images/<name>`` (a copy) and ``OUTPUT/gts/gt_<stem>.txt`` (one
``x1,y1,...,x4,y4,text`` line per teacher box; ``text`` is ``teacher``).
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from pathlib import Path


def image_extensions() -> tuple:
    """The project's one list of image types, read from its file: this script runs in the
    teacher's environment, which has no torch, so the models package cannot be imported."""
    path = Path(__file__).resolve().parent.parent / "models" / "image_types.py"
    spec = importlib.util.spec_from_file_location("image_types", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.IMAGE_EXTS


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="folder of images (recursive)")
    ap.add_argument("--output", required=True, help="dataset folder to write (images/ + gts/)")
    ap.add_argument("--box-thresh", type=float, default=0.6, help="teacher's box score threshold")
    args = ap.parse_args()
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        print("ERROR: run this with a Python that has rapidocr-onnxruntime installed (see the docstring)",
              file=sys.stderr)
        return 2
    engine = RapidOCR(box_thresh=args.box_thresh)
    out = Path(args.output)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "gts").mkdir(parents=True, exist_ok=True)
    exts = image_extensions()
    files = sorted(p for p in Path(args.input).rglob("*") if p.suffix.lower() in exts)
    for path in files:
        result, _ = engine(str(path), use_det=True, use_cls=False, use_rec=False)
        boxes = result or []
        shutil.copy2(path, out / "images" / path.name)
        lines = []
        for box in boxes:
            pts = [int(round(v)) for pt in box for v in pt]
            lines.append(",".join(map(str, pts)) + ",teacher")
        (out / "gts" / f"gt_{path.stem}.txt").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
        print(f"{path.name}: {len(boxes)} boxes")
    print(f"wrote {len(files)} images to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
