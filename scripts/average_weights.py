"""Average the tensors of several weights files of one network (a "model soup").

Fine-tuned runs that start from the same weights land in one basin, and their mean is often
better than any of them (Wortsman et al. 2022, "Model soups"); it costs no training, only an
evaluation, which decides whether it ships (training log: GPU stage 5).

    .venv/bin/python scripts/average_weights.py OUT.safetensors A.safetensors B.safetensors [...]
    .venv/bin/python scripts/average_weights.py --lines-only OUT A B    # word maps dropped first

BatchNorm running statistics are averaged like the weights; integer counters come from the
first file. Files of different architectures are refused; ``--lines-only`` first drops the
word map of any file that has one (``app train --word-joint``), so that a jointly trained
network averages with a line-only one (the release of 2026-11-27: training log, GPU stage 6).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Sequence

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from models.weights import load_model, save_weights, weights_id


def average(paths: Sequence[Path], drop_word_maps: bool = False) -> torch.nn.Module:
    """The first file's network holding the mean of every floating-point tensor of all files."""
    if len(paths) < 2:
        raise SystemExit("give at least two weights files to average")
    nets = [load_model(p)[0] for p in paths]
    if drop_word_maps:
        nets = [n.without_word_map() for n in nets]
    base = nets[0]
    states = [base.state_dict()]
    for p, net in zip(paths[1:], nets[1:]):
        if net.config != base.config:
            raise SystemExit(f"{p}: another architecture than {paths[0]} ({net.config.name} vs {base.config.name})"
                             + ("" if drop_word_maps else "; --lines-only drops word maps first"))
        states.append(net.state_dict())
    mean = {k: (torch.stack([s[k] for s in states]).mean(0) if v.is_floating_point() else v)
            for k, v in states[0].items()}
    base.load_state_dict(mean)
    return base


def main(argv: List[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("inputs", type=Path, nargs="+")
    ap.add_argument("--lines-only", action="store_true", help="drop every file's word map before averaging")
    args = ap.parse_args(argv)
    net = average(args.inputs, args.lines_only)
    save_weights(net, args.out, {"averaged_from": [weights_id(p) for p in args.inputs]})
    print(f"{args.out}: mean of {len(args.inputs)} files ({weights_id(args.out)})")


if __name__ == "__main__":
    main()
