"""Put the word map of one weights file onto the line network of another.

Why: a word map learned together with its network (``app train --word-joint``, a GPU job)
reads features close to those of a line network averaged with that network (the release of
2026-11-27 is such an average); grafted onto it, the lines stay exactly the released ones
and the scene photos get the jointly learned word map, with no training (training log, "The
word map on demand"). The release of 2026-11-27 (second) was made this way:

    .venv/bin/python scripts/add_word_map.py OUT.safetensors LINES.safetensors WORDS.safetensors

LINES gives every tensor but the word map's (its own word map, if any, is replaced); WORDS
gives the word map (its neck too, if it has one of its own). The two networks must have the
same backbone, neck and heads; anything else is refused.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from models.dbnet import WORD_MAP_PARTS, DBNet
from models.weights import load_model, save_weights, weights_id


def add_word_map(lines_path: Path, words_path: Path) -> DBNet:
    """LINES's network with WORDS's word map."""
    lines, _ = load_model(lines_path)
    words, _ = load_model(words_path)
    if not words.config.word_head:
        raise SystemExit(f"{words_path}: has no word map to take")
    shape = replace(words.config, word_head=False, word_neck=True)
    if replace(lines.config, word_head=False, word_neck=True) != shape:
        raise SystemExit(f"{lines_path} and {words_path} are different networks "
                         f"({lines.config.name} vs {words.config.name})")
    net = DBNet(words.config)
    state = {k: v for k, v in lines.state_dict().items() if not k.startswith(WORD_MAP_PARTS)}
    state.update({k: v for k, v in words.state_dict().items() if k.startswith(WORD_MAP_PARTS)})
    net.load_state_dict(state)
    return net


def main(argv: List[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("lines", type=Path, help="the file whose line network is kept")
    ap.add_argument("words", type=Path, help="the file whose word map is taken")
    args = ap.parse_args(argv)
    net = add_word_map(args.lines, args.words)
    save_weights(net, args.out, {"lines_from": weights_id(args.lines), "word_map_from": weights_id(args.words)})
    print(f"{args.out}: {net.config.name}, lines of {weights_id(args.lines)}, word map of "
          f"{weights_id(args.words)} ({weights_id(args.out)})")


if __name__ == "__main__":
    main()
