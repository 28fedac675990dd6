"""The word map of an exported network, cut off from its lines so that it runs only where wanted.

Why: a word map (``DBNetConfig.word_head``) serves Latin scene text, the images that
``granularity='auto'`` gives words (a few lines on a busy background); a page, a receipt or a
form keeps its lines and never reads the word map. Run inside the one graph, the word branch
cost every image 15-31 % more forward time (weights/MODEL_CARD.md, "A word map"); cut off, it
costs the images that use it and nothing for the others.

How: the exported file has two outputs, ``prob`` (lines) and ``word_prob`` (words). The nodes
only the word map needs form the word graph; the tensors it reads from the rest (the line
neck's output, or the backbone's features for a word neck of its own) become a second output
of the line graph and the inputs of the word graph. Where such a tensor is the float copy
(``DequantizeLinear``) of an int8 one, the int8 tensor crosses instead: a quarter of the bytes,
and the word graph's first convolution keeps its integer kernel. Both graphs are cut from the
verified file in memory, so they compute exactly what it computes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Set, Tuple

import onnx
from onnx import helper

from ..export.metadata import INPUT_NAME, OUTPUT_NAME, WORD_OUTPUT_NAME


@dataclass(frozen=True)
class WordBranch:
    """A file's two graphs: ``lines`` (images -> prob, *boundary), ``words`` (*boundary -> word_prob)."""

    lines: onnx.ModelProto
    words: onnx.ModelProto
    boundary: Tuple[str, ...]


def has_word_output(model: onnx.ModelProto) -> bool:
    return any(o.name == WORD_OUTPUT_NAME for o in model.graph.output)


def _ancestors(output: str, producers: Dict[str, int], nodes: List[onnx.NodeProto]) -> Set[int]:
    """Indices of the nodes ``output`` depends on."""
    seen: Set[int] = set()
    stack = [output]
    while stack:
        i = producers.get(stack.pop())
        if i is None or i in seen:
            continue
        seen.add(i)
        stack.extend(t for t in nodes[i].input if t)
    return seen


def boundary_tensors(model: onnx.ModelProto) -> Tuple[str, ...]:
    """The tensors the word-only nodes read from the rest of the graph, in graph order
    (an int8 tensor rather than its float copy, where a ``DequantizeLinear`` made one)."""
    nodes = list(model.graph.node)
    producers = {t: i for i, n in enumerate(nodes) for t in n.output}
    shared = _ancestors(OUTPUT_NAME, producers, nodes)
    word_only = sorted(_ancestors(WORD_OUTPUT_NAME, producers, nodes) - shared)
    constants = {t.name for t in model.graph.initializer}
    out: List[str] = []
    for i in word_only:
        for t in nodes[i].input:
            if not t or t in constants or t in out:
                continue
            p = producers.get(t)
            if p is None or p in shared:
                out.append(t)
    crossing: List[str] = []
    for t in out:
        p = producers.get(t)
        if p is not None and nodes[p].op_type == "DequantizeLinear" and nodes[p].input[0] not in constants:
            t = nodes[p].input[0]
        if t not in crossing:
            crossing.append(t)
    return tuple(crossing)


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
    stop = set(inputs)
    keep: Set[int] = set()
    stack = list(outputs)
    while stack:
        t = stack.pop()
        if t in stop:
            continue
        i = producers.get(t)
        if i is None or i in keep:
            continue
        keep.add(i)
        stack.extend(x for x in nodes[i].input if x)
    chosen = [nodes[i] for i in sorted(keep)]
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
    boundary = boundary_tensors(model)
    if not boundary:
        return None
    infos = _value_infos(model)
    # the image itself, where the word graph reads it, is handed over by the caller
    lines = _subgraph(model, [INPUT_NAME], [OUTPUT_NAME, *(t for t in boundary if t != INPUT_NAME)],
                      infos, "dbnet_lines")
    words = _subgraph(model, list(boundary), [WORD_OUTPUT_NAME], infos, "dbnet_words")
    return WordBranch(lines, words, boundary)
