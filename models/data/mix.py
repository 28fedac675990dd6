"""Several datasets in one training run: sources, sampling weights and held-out validation.

A source is a dataset folder in any layout :mod:`models.data.icdar` reads, with a sampling
weight (the share of each batch drawn from it) and optionally a number of its images held
out for validation. They come from ``--data DIR[:WEIGHT]`` (repeatable) or from a TOML mix
file, which also names the held-out counts::

    seed = 2026                 # fixes which images are held out
    [[source]]
    path = "../shared/datasets/icdar2015_train"   # relative to the mix file
    weight = 0.35
    holdout = 100
    granularity = "words"       # what its labels mark: "lines" (the default) or "words"

``granularity`` matters to ``app train --word-joint``: only word-labelled crops teach the
word map. A source with its own test split validates on it; otherwise ``holdout`` images, chosen by
``seed`` from the sorted file list, never enter training. The split is written to the run
folder (``split.json``) so it can be checked and reproduced.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .icdar import DatasetError, Sample, has_split, read_split

DEFAULT_SPLIT_SEED = 2026
GRANULARITIES = ("lines", "words")   # what a source's labels mark (a mix file's ``granularity``)


@dataclass(frozen=True)
class DataSource:
    """One dataset folder in a training mix."""

    path: str
    weight: float = 1.0
    holdout: int = 0
    name: str = ""
    granularity: str = "lines"   # "words": its labels are words (the word map learns from them)

    @property
    def label(self) -> str:
        return self.name or Path(self.path).name


@dataclass
class LoadedSource:
    """A source read from disk: its training and validation samples."""

    source: DataSource
    train: List[Sample]
    val: List[Sample] = field(default_factory=list)


def parse_source_spec(spec: str) -> DataSource:
    """``DIR`` or ``DIR:WEIGHT`` (a weight is the last ``:``-part when it is a number)."""
    head, sep, tail = spec.rpartition(":")
    if sep and head:
        try:
            weight = float(tail)
        except ValueError:
            return DataSource(spec)
        if not weight > 0:
            raise DatasetError(f"{spec}: the sampling weight must be positive (got {tail})")
        return DataSource(head, weight)
    return DataSource(spec)


def read_mix_file(path: str | Path) -> Tuple[List[DataSource], int]:
    """(sources, split seed) of a TOML mix file; paths are relative to the file."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DatasetError(f"{path}: not valid TOML ({exc})") from exc
    entries = doc.get("source")
    if not isinstance(entries, list) or not entries:
        raise DatasetError(f"{path}: expected one or more [[source]] tables with path, weight, holdout")
    sources = []
    for k, e in enumerate(entries, start=1):
        unknown = set(e) - {"path", "weight", "holdout", "name", "granularity"}
        if "path" not in e or unknown:
            raise DatasetError(f"{path}, source {k}: needs 'path' (and optional weight, holdout, name, "
                               f"granularity)" + (f"; unknown keys {sorted(unknown)}" if unknown else ""))
        p = Path(e["path"])
        weight, holdout = float(e.get("weight", 1.0)), int(e.get("holdout", 0))
        if weight <= 0 or holdout < 0:
            raise DatasetError(f"{path}, source {k}: weight must be > 0 and holdout >= 0")
        granularity = str(e.get("granularity", "lines"))
        if granularity not in GRANULARITIES:
            raise DatasetError(f"{path}, source {k}: granularity is one of {', '.join(GRANULARITIES)} "
                               f"(what its labels mark), not {granularity!r}")
        sources.append(DataSource(str(p if p.is_absolute() else path.parent / p), weight, holdout,
                                  str(e.get("name", "")), granularity))
    return sources, int(doc.get("seed", DEFAULT_SPLIT_SEED))


def resolve_sources(specs: Sequence[str]) -> Tuple[List[DataSource], int]:
    """Every ``--data`` value (folders with weights, or mix files) as one list of sources."""
    sources: List[DataSource] = []
    seed = DEFAULT_SPLIT_SEED
    for spec in specs:
        if spec.endswith(".toml"):
            more, seed = read_mix_file(spec)
            sources.extend(more)
        else:
            sources.append(parse_source_spec(spec))
    if not sources:
        raise DatasetError("no training data given (--data DIR[:WEIGHT] or a .toml mix file)")
    labels = [s.label for s in sources]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise DatasetError(f"two sources share the name {dupes}: give them a 'name' in the mix file")
    return sources, seed


def split_holdout(samples: List[Sample], count: int, seed: int) -> Tuple[List[Sample], List[Sample]]:
    """(train, held out): ``count`` images drawn by ``seed`` from the sorted list."""
    if count <= 0:
        return samples, []
    if count >= len(samples):
        raise DatasetError(f"cannot hold out {count} of {len(samples)} images: nothing would be left to train on")
    ordered = sorted(samples, key=lambda s: str(s.image_path))
    perm = np.random.default_rng(seed).permutation(len(ordered))
    held = set(perm[:count].tolist())
    return ([s for i, s in enumerate(ordered) if i not in held],
            [ordered[i] for i in sorted(held)])


def load_sources(sources: Sequence[DataSource], seed: int) -> List[LoadedSource]:
    """Read and split every source; problems name the source's file and line."""
    loaded = []
    for src in sources:
        root = Path(src.path)
        if not root.is_dir():
            raise DatasetError(f"{root}: dataset folder not found")
        samples = read_split(root, "train")
        train, val = split_holdout(samples, src.holdout, seed)
        if has_split(root, "test"):
            val = read_split(root, "test") + val
        loaded.append(LoadedSource(src, train, val))
    return loaded


def sample_weights(loaded: Sequence[LoadedSource]) -> np.ndarray:
    """Per-image probability so that each source fills its weight's share of the batches."""
    total = sum(ls.source.weight for ls in loaded)
    return np.concatenate([np.full(len(ls.train), ls.source.weight / total / len(ls.train))
                           for ls in loaded])


def split_record(loaded: Sequence[LoadedSource], seed: int) -> Dict[str, object]:
    """What ``split.json`` stores: which images each source trains and validates on."""
    return {"seed": seed, "sources": [
        {"name": ls.source.label, "path": ls.source.path, "weight": ls.source.weight,
         "holdout": ls.source.holdout, "granularity": ls.source.granularity, "train_images": len(ls.train),
         "val_images": [str(s.image_path) for s in ls.val]} for ls in loaded]}
