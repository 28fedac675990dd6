"""Stage the release-2 training data for a lent GPU machine (the `device` tool).

Only the working tree travels, at most 64 MiB a call with the ~22 MB of tracked files, so
the data goes in two calls (GPU stage 6: call 1 carries .dev_stage1 and .whl, call 2
.dev_stage2 and .dev_stage3 with 380 renders; three calls with 1,000 renders): training images only (the validation holdouts of
`workdirs/<run>/split.json` are dropped), re-encoded as WebP, receipts downscaled to a
1280 px long side (their points scaled with them), and a seeded subset of the renders.

    .venv/bin/python scripts/device/stage_release2.py 1    # .dev_stage1/icdar2015   (~31 MB)
    .venv/bin/python scripts/device/stage_release2.py 2    # .dev_stage2/{funsd,wildreceipt,tapuscorpus} (~26 MB),
                                                           # .dev_stage1/born_digital (~4 MB)
    .venv/bin/python scripts/device/stage_release2.py 3 [N]   # .dev_stage3/renders (N = 1000, ~28 MB)
    .venv/bin/python scripts/device/stage_release2.py teacher   # .dev_stage0/teacher.safetensors (24.7 MB)

The teacher is the ResNet-18 release 2 (``db_resnet18-4051da5ead``), which the light network
replaced as ``weights/db_resnet18.safetensors``: it is read from git history (commit
``TEACHER_COMMIT``) and travels in a call of its own (the tracked tree is ~22 MB now).

Each call moves its folder to /tmp/d on the machine; the third runs
`scripts/device/train_release2_gpu.sh` (see weights/TRAINING_LOG.md for the runs it made; the first
GPU stage used release2_gpu.toml, four sources; the second release2_gpu2.toml, all six; the
third release2_gpu3.toml, which adds the ID-card and scene renders as a seventh).
"""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from models.data.mix import load_sources, resolve_sources

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
MIX = "scripts/mixes/release2.toml"                   # its seed fixes the validation holdouts
TEACHER_COMMIT = "f3c2e80"                            # the last commit that shipped the ResNet-18 release 2


def holdouts() -> dict:
    """Source name -> file names of its validation holdout (the seeded split of ``MIX``)."""
    sources, seed = resolve_sources([MIX])
    return {ls.source.label: {s.image_path.name for s in ls.val} for ls in load_sources(sources, seed)}


def to_webp(src: Path, dst: Path, quality: int, side: int | None = None) -> float:
    """Write ``src`` as WebP (EXIF-rotated), shrunk to ``side`` when larger; returns the scale."""
    im = ImageOps.exif_transpose(Image.open(src)).convert("RGB")
    scale = 1.0
    if side and max(im.size) > side:
        scale = side / max(im.size)
        im = im.resize((round(im.width * scale), round(im.height * scale)), Image.LANCZOS)
    dst.parent.mkdir(parents=True, exist_ok=True)
    im.save(dst, "WEBP", quality=quality, method=4)
    return scale


def icdar2015_layout(src: Path, dst: Path, quality: int, skip: set, keep: set | None = None) -> None:
    (dst / "train_gts").mkdir(parents=True, exist_ok=True)
    names = []
    for img in sorted((src / "train_images").iterdir()):
        if img.name in skip or (keep is not None and img.stem not in keep):
            continue
        to_webp(img, dst / "train_images" / f"{img.stem}.webp", quality)
        gt = src / "train_gts" / f"gt_{img.stem}.txt"
        shutil.copy2(gt if gt.exists() else src / "train_gts" / f"{img.stem}.txt", dst / "train_gts")
        names.append(f"{img.stem}.webp")
    (dst / "train_list.txt").write_text("\n".join(names) + "\n")


def paddle_labels(src: Path, dst: Path, quality: int, side: int, skip: set) -> None:
    lines = []
    for line in (src / "label.txt").read_text(encoding="utf-8").splitlines():
        rel, payload = line.split("\t", 1)
        if Path(rel).name in skip:
            continue
        out = Path(rel).with_suffix(".webp")
        scale = to_webp(src / rel, dst / out, quality, side)
        if scale != 1.0:
            regions = json.loads(payload)
            for r in regions:
                r["points"] = [[round(x * scale, 1), round(y * scale, 1)] for x, y in r["points"]]
            payload = json.dumps(regions, ensure_ascii=False)
        lines.append(f"{out.as_posix()}\t{payload}")
    (dst / "label.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def stage_teacher(dst: Path = Path(".dev_stage0/teacher.safetensors")) -> None:
    """The ResNet-18 release 2 out of git history: the light network's distillation teacher."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    blob = subprocess.run(["git", "show", f"{TEACHER_COMMIT}:weights/db_resnet18.safetensors"],
                          check=True, capture_output=True).stdout
    dst.write_bytes(blob)


def main(stage: str, renders_kept: int = 1000) -> None:
    if stage == "teacher":
        stage_teacher()
        return
    skip = holdouts()
    if stage == "1":
        icdar2015_layout(DATASETS / "icdar2015_train", Path(".dev_stage1/icdar2015"), 45, skip["icdar2015"])
    elif stage == "2":
        icdar2015_layout(DATASETS / "funsd_train", Path(".dev_stage2/funsd"), 60, skip["funsd"])
        paddle_labels(DATASETS / "wildreceipt", Path(".dev_stage2/wildreceipt"), 70, 1280, skip["wildreceipt"])
        # the second GPU stage added these two (the first one had left them out); born-digital
        # travels with the street photos (.dev_stage1, ~35 MB), so that .dev_stage2 and the
        # renders of stage 3 fit one call beside the tracked tree (~22 MB): two data calls
        icdar2015_layout(DATASETS / "icdar2013_born_digital", Path(".dev_stage1/born_digital"), 70, skip["born_digital"])
        icdar2015_layout(DATASETS / "tapuscorpus", Path(".dev_stage2/tapuscorpus"), 55, skip["tapuscorpus"])
    elif stage == "3":
        renders = Path("data_cache/synth_v2")
        names = sorted(p.stem for p in (renders / "train_images").glob("*.jpg"))
        random.Random(2026).shuffle(names)
        keep = set(names[:renders_kept])
        icdar2015_layout(renders, Path(".dev_stage3/renders"), 70, set(), keep)
        # the categories of the subset, so that scripts/link_render_categories.py can link the
        # ID-card and scene renders as a source of their own on the machine (release2_gpu3.toml)
        cats = json.loads((renders / "train_categories.json").read_text(encoding="utf-8"))
        (Path(".dev_stage3/renders") / "train_categories.json").write_text(
            json.dumps({k: v for k, v in cats.items() if k in keep}), encoding="utf-8")
        shutil.copy2(Path(__file__).with_name("release2_gpu3.toml"), ".dev_stage3/mix.toml")
    else:
        raise SystemExit("stage is 1, 2, 3 or teacher")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "", int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
