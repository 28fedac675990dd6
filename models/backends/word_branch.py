"""The word map of an exported network, cut off from its lines so that it runs only where wanted.

Why: a word map (``DBNetConfig.word_head``) serves Latin scene text, the images that
``granularity='auto'`` gives words (a few lines on a busy background); a page, a receipt or a
form keeps its lines and never reads the word map. Run inside the one graph, the word branch
cost every image 15-31 % more forward time (weights/TRAINING_LOG.md, "A word map"); cut off, it
costs the images that use it and nothing for the others.

How: the exported file has two outputs, ``prob`` (lines) and ``word_prob`` (words). The nodes
only the word map needs form the word graph, plus the shared nodes that only move data
(:data:`DATA_MOVES`); the tensors it reads from the rest (the line neck's four scales before
their upsampling, or the backbone's features for a word neck of its own, and the shape
arithmetic) become more outputs of the line graph and the inputs of the word graph; in an int8
file they cross as int8. Both graphs are cut from the verified file in memory, so they compute
exactly what it computes.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Set, Tuple

import onnx
from onnx import helper

from ..export.metadata import INPUT_NAME, OUTPUT_NAME, WORD_OUTPUT_NAME

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WordBranch:
    """A file's two graphs: ``lines`` (images -> prob, *boundary), ``words`` (*boundary -> word_prob)."""

    lines: onnx.ModelProto
    words: onnx.ModelProto
    boundary: Tuple[str, ...]


def has_word_output(model: onnx.ModelProto) -> bool:
    return any(o.name == WORD_OUTPUT_NAME for o in model.graph.output)


def _ancestors(outputs: List[str], producers: Dict[str, int], nodes: List[onnx.NodeProto],
               stop: Set[str] = frozenset()) -> Set[int]:
    """Indices of the nodes ``outputs`` depend on, not looking past the tensors ``stop``."""
    seen: Set[int] = set()
    stack = list(outputs)
    while stack:
        t = stack.pop()
        i = None if t in stop else producers.get(t)
        if i is None or i in seen:
            continue
        seen.add(i)
        stack.extend(x for x in nodes[i].input if x)
    return seen


#: Shared nodes that only move data (a concatenation, a nearest-neighbour upsampling, int8 <->
#: float): the word graph repeats them rather than take their large output across. The line
#: neck's concatenated output is 4 x 64 channels at a quarter of the input size; before its
#: upsamplings the same data is a third of that, and OpenVINO then runs the line graph about as
#: fast as a line-only network (42.5 against 41.6 ms at 736 x 1280 on the 2-core Xeon, the whole
#: graph 51.9; taking the concatenation across cost it 10-12 ms, ONNX Runtime 5).
DATA_MOVES = ("Concat", "Resize", "DequantizeLinear")


def _word_nodes(model: onnx.ModelProto, int64: Set[str]) -> Tuple[List[onnx.NodeProto], Set[int], Dict[str, int]]:
    """The graph's nodes, the indices of those the word graph runs, and each tensor's producer."""
    nodes = list(model.graph.node)
    producers = {t: i for i, n in enumerate(nodes) for t in n.output}
    constants = {t.name for t in model.graph.initializer}
    word = _ancestors([WORD_OUTPUT_NAME], producers, nodes) - _ancestors([OUTPUT_NAME], producers, nodes)
    while True:
        more = set()
        for t in _inputs_of(word, nodes, producers, constants):
            p = producers.get(t)
            if p is None or t in int64:
                continue
            op = nodes[p].op_type
            # a QuantizeLinear right after a data move is one too (after a convolution it is
            # part of that convolution's integer kernel: the int8 tensor crosses there)
            upstream = producers.get(nodes[p].input[0])
            if op in DATA_MOVES or (op == "QuantizeLinear" and upstream is not None
                                    and nodes[upstream].op_type in DATA_MOVES):
                more.add(p)
        if not more:
            return nodes, word, producers
        word |= more


def _int64_tensors(infos: Dict[str, onnx.ValueInfoProto]) -> Set[str]:
    """Shape arithmetic (int64 tensors): tiny, so it crosses as it is."""
    return {name for name, v in infos.items() if v.type.tensor_type.elem_type == onnx.TensorProto.INT64}


def _inputs_of(word: Set[int], nodes: List[onnx.NodeProto], producers: Dict[str, int], constants: Set[str]) -> List[str]:
    """The tensors the nodes ``word`` read from outside themselves, in graph order."""
    out: List[str] = []
    for i in sorted(word):
        for t in nodes[i].input:
            if t and t not in constants and t not in out and producers.get(t) not in word:
                out.append(t)
    return out


def boundary_tensors(model: onnx.ModelProto, infos: Dict[str, onnx.ValueInfoProto] | None = None) -> Tuple[str, ...]:
    """The tensors the word graph reads from the rest of the graph, in graph order."""
    nodes, word, producers = _word_nodes(model, _int64_tensors(infos if infos is not None else _value_infos(model)))
    constants = {t.name for t in model.graph.initializer}
    return tuple(_inputs_of(word, nodes, producers, constants))


def _value_infos(model: onnx.ModelProto) -> Dict[str, onnx.ValueInfoProto]:
    """Every tensor's type (shape inference), for the inputs and outputs of the cut graphs."""
    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    return {v.name: v for v in list(g.value_info) + list(g.input) + list(g.output)}


def _subgraph(model: onnx.ModelProto, inputs: List[str], outputs: List[str],
              infos: Dict[str, onnx.ValueInfoProto], name: str) -> onnx.ModelProto:
    """The nodes between ``inputs`` and ``outputs`` as a model of their own (opsets, metadata kept)."""
    nodes = list(model.graph.node)
    producers = {t: i for i, n in enumerate(nodes) for t in n.output}
    chosen = [nodes[i] for i in sorted(_ancestors(outputs, producers, nodes, set(inputs)))]
    used = {t for n in chosen for t in n.input}
    inits = [t for t in model.graph.initializer if t.name in used]
    missing = [t for t in inputs + outputs if t not in infos]
    if missing:
        raise ValueError(f"no type known for {missing}: cannot cut the word map off")
    graph = helper.make_graph(chosen, name, [infos[t] for t in inputs], [infos[t] for t in outputs], inits)
    sub = helper.make_model(graph, opset_imports=list(model.opset_import), producer_name=model.producer_name)
    sub.ir_version = model.ir_version
    for p in model.metadata_props:
        entry = sub.metadata_props.add()
        entry.key, entry.value = p.key, p.value
    return sub


def split_word_branch(model: onnx.ModelProto) -> WordBranch | None:
    """The line and the word graph of ``model``; None when it has no ``word_prob`` output (a
    line-only network, or a word-map file exported before 2026-11-27 with both maps in one
    output: it runs whole)."""
    if not has_word_output(model):
        return None
    infos = _value_infos(model)
    boundary = boundary_tensors(model, infos)
    if not boundary:
        return None
    if INPUT_NAME in boundary:     # a word graph that reads the image: nothing to save by cutting
        return None
    lines = _subgraph(model, [INPUT_NAME], [OUTPUT_NAME, *boundary], infos, "dbnet_lines")
    words = _subgraph(model, list(boundary), [WORD_OUTPUT_NAME], infos, "dbnet_words")
    return WordBranch(lines, words, boundary)


def load_word_branch(path: Path) -> WordBranch | None:
    """:func:`split_word_branch` of a file; None, with a warning, where it cannot be cut (the
    backend then runs it whole: slower for documents, the same boxes)."""
    try:
        return split_word_branch(onnx.load(str(path)))
    except Exception as exc:   # onnx raises several types of its own; any of them means: run it whole
        log.warning("%s: the word map cannot be run apart (%s); it runs with the lines for every image", path, exc)
        return None
