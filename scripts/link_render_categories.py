"""Link some categories of a rendered split into a training folder of their own (symlinks).

    .venv/bin/python scripts/link_render_categories.py data_cache/synth_v2 data_cache/synth_v2_idcard_scene id_card scene

A mix file can then weight those categories on their own (scripts/mixes/release2_e.toml).
The folder is the ICDAR-2015 layout (train_images/, train_gts/, train_list.txt) of the
source's train split, restricted to the named categories of its train_categories.json.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from models.image_types import IMAGE_EXTS


def link(source: str, output: str, categories: list[str], split: str = "train") -> int:
    root, out = Path(source).resolve(), Path(output)
    cats = json.loads((root / f"{split}_categories.json").read_text(encoding="utf-8"))
    (out / f"{split}_images").mkdir(parents=True, exist_ok=True)
    (out / f"{split}_gts").mkdir(exist_ok=True)
    names = []
    for stem in sorted(n for n, c in cats.items() if c in categories):
        found = [root / f"{split}_images" / f"{stem}{ext}" for ext in IMAGE_EXTS]
        image = next((f for f in found if f.exists()), None)
        if image is None:
            continue
        for src, dst in ((image, out / f"{split}_images" / image.name),
                         (root / f"{split}_gts" / f"gt_{stem}.txt", out / f"{split}_gts" / f"gt_{stem}.txt")):
            if not dst.exists():
                dst.symlink_to(src)
        names.append(image.name)
    (out / f"{split}_list.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    return len(names)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    print(link(sys.argv[1], sys.argv[2], sys.argv[3:]), "images linked")
