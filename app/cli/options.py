"""Command-line options made from the settings dataclasses: one helper for every command.

``add_options(parser, DetectorConfig)`` adds ``--thresh``, ``--box-thresh``, ... with each
field's type, choices, help text and default (:mod:`models.settings`); booleans become
``--flag/--no-flag``, tuples comma-separated values (or a repeated option), and a nested
settings dataclass (``TrainConfig.loss``) its own group of ``--loss-...`` options.
``config_from_args(DetectorConfig, args, base)`` builds the dataclass back, changing only
the fields the user typed. Bounds are checked while parsing, with the field's own message,
so ``--thresh 1.5`` stops with "argument --thresh: thresh must be between 0 and 1 (got 1.5)".
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import types
import typing
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Mapping, Sequence, Tuple

from models.settings import bounds_text, default_of, value_problem

Parser = argparse.ArgumentParser | argparse._ArgumentGroup
METAVARS = {int: "N", float: "X", Path: "PATH"}


@lru_cache(maxsize=None)
def _hints(cls: type) -> Dict[str, Any]:
    return typing.get_type_hints(cls)


def _unwrap(hint: Any) -> Any:
    """``X | None`` -> ``X``; of a union of several types, the one the command line can type."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        for preferred in (bool, int, float, str, Path):
            if preferred in args:
                return preferred
        return args[0]
    return hint


def _tuple_shape(hint: Any) -> Tuple[Any, int | None] | None:
    """(element type, fixed length or None for ``Tuple[X, ...]``), or None for a non-tuple."""
    if typing.get_origin(hint) is not tuple:
        return None
    args = typing.get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
        return args[0], None
    return args[0], len(args)


def _is_settings(cls: Any) -> bool:
    return dataclasses.is_dataclass(cls) and all("help" in f.metadata for f in dataclasses.fields(cls))


def _has_default(f: dataclasses.Field) -> bool:
    return f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING


def _selected(cls: type, names: Sequence[str] | None) -> Iterator[dataclasses.Field]:
    by_name = {f.name: f for f in dataclasses.fields(cls)}
    if names is None:
        yield from (f for f in by_name.values() if f.metadata.get("cli", True))
        return
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise KeyError(f"{cls.__name__} has no setting(s) {unknown}")
    yield from (by_name[n] for n in names)


def _flag(f: dataclasses.Field, prefix: str) -> str:
    return "--" + prefix + (f.metadata.get("cli_name") or f.name.replace("_", "-"))


def _dest(f: dataclasses.Field, prefix: str) -> str:
    return prefix.replace("-", "_") + f.name


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    return str(value)


def _help(f: dataclasses.Field, default: Any) -> str:
    meta = f.metadata
    notes = []
    bounds = bounds_text(meta)
    if bounds and "choices" not in meta:
        notes.append(bounds)
    if default is not None and default != "" and default != ():
        notes.append(f"default {_shown(default)}")
    text = meta["help"] + (f" ({'; '.join(notes)})" if notes else "")
    if meta.get("env"):
        text += f" [{meta['env']}]"
    return text.replace("%", "%%")   # argparse formats help strings with %


def _parse_one(name: str, kind: Any, meta: Mapping[str, Any]) -> Callable[[str], Any]:
    """A value of ``kind`` (or of the field's own ``cli_parse``) from text, checked against the
    field's bounds (argparse shows the ArgumentTypeError's message after the option's name)."""
    custom = meta.get("cli_parse")

    def parse(text: str) -> Any:
        try:
            value = custom(text) if custom else kind(text)
        except ValueError as exc:
            if custom:
                raise argparse.ArgumentTypeError(str(exc)) from None
            what = {int: "an integer", float: "a number"}.get(kind, kind.__name__)
            raise argparse.ArgumentTypeError(f"{name} must be {what} (got {text!r})") from None
        problem = value_problem(name, value, meta)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value
    parse.__name__ = getattr(kind, "__name__", "value")   # argparse names the type in some messages
    return parse


def _parse_list(name: str, kind: Any, meta: Mapping[str, Any]) -> Callable[[str], Tuple[Any, ...]]:
    one = _parse_one(name, kind, meta)

    def parse(text: str) -> Tuple[Any, ...]:
        values = tuple(one(v.strip()) for v in text.split(",") if v.strip())
        if not values:
            raise argparse.ArgumentTypeError(f"{name}: expected comma-separated values, got {text!r}")
        return values
    parse.__name__ = "list"
    return parse


def add_options(parser: Parser, cls: type, fields: Sequence[str] | None = None, prefix: str = "",
                title: str | None = None, base: Any = None) -> None:
    """Add one ``--option`` per field of the settings dataclass ``cls``.

    Args:
        fields: the fields to offer (default: every field whose metadata allows ``cli``).
        prefix: put before each option name (``loss-`` gives ``--loss-alpha``); nested
            settings get ``<field>-`` automatically.
        title: an argument group to put them in (a nested group is titled by its help).
        base: an instance whose values the help shows as defaults (pass the same one to
            :func:`config_from_args`), for a command whose defaults differ from the class's.
    """
    target = parser.add_argument_group(title) if title else parser
    for f in _selected(cls, fields):
        meta = f.metadata
        default = getattr(base, f.name) if base is not None else default_of(cls, f.name) if _has_default(f) else None
        if _is_settings(type(default)):
            add_options(parser, type(default), None, f"{prefix}{f.name.replace('_', '-')}-",
                        title=f"{meta['help']} (--{prefix}{f.name.replace('_', '-')}-...)", base=default)
            continue
        flags = [_flag(f, prefix)] + ([meta["cli_short"]] if meta.get("cli_short") and not prefix else [])
        kw: Dict[str, Any] = dict(dest=_dest(f, prefix), default=None, help=_help(f, default))
        if meta.get("cli_required"):
            kw["required"] = True
        hint = _unwrap(_hints(cls)[f.name])
        shape = _tuple_shape(hint)
        if meta.get("cli_parse"):
            kw.update(type=_parse_one(f.name, hint, meta), metavar=meta.get("metavar"))
        elif hint is bool:
            kw["action"] = argparse.BooleanOptionalAction
        elif shape is not None:
            kind, length = shape
            if length is not None:
                kw.update(nargs=length, type=_parse_one(f.name, kind, meta), metavar=METAVARS.get(kind))
            elif meta.get("cli_repeat"):
                kw.update(action="append", type=_parse_one(f.name, kind, meta))
            else:
                kw.update(type=_parse_list(f.name, kind, meta), metavar=f.name.upper() + "[,...]")
        else:
            kw["type"] = _parse_one(f.name, hint, meta)
            if "choices" in meta:
                kw["choices"] = meta["choices"]
            else:
                kw["metavar"] = meta.get("metavar") or METAVARS.get(hint)
        target.add_argument(*flags, **kw)


def _from_env(cls: type, f: dataclasses.Field, environ: Mapping[str, str]) -> Any:
    """The value of the field's ``env`` variable when set (and not blank), parsed and checked
    like the option; None otherwise."""
    name = f.metadata.get("env")
    text = environ.get(name, "") if name else ""
    if not text.strip():
        return None
    hint = _unwrap(_hints(cls)[f.name])
    shape = _tuple_shape(hint)
    if shape is not None and not f.metadata.get("cli_parse"):
        parse = _parse_list(f.name, shape[0], f.metadata)
    else:
        parse = _parse_one(f.name, hint, f.metadata)
    try:
        return parse(text)
    except argparse.ArgumentTypeError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _given(cls: type, args: argparse.Namespace, prefix: str, environ: Mapping[str, str]) -> Dict[str, Any]:
    """The fields of ``cls`` that the user typed, or set through their environment variable
    (nested settings included)."""
    out: Dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        default = default_of(cls, f.name) if _has_default(f) else None
        if _is_settings(type(default)):
            nested = _given(type(default), args, f"{prefix}{f.name}_", environ)
            if nested:
                out[f.name] = nested
            continue
        value = getattr(args, prefix + f.name, None)
        if value is None:
            value = _from_env(cls, f, environ)
        if value is not None:
            out[f.name] = tuple(value) if isinstance(value, list) else value
    return out


def _apply(cls: type, base: Any, given: Mapping[str, Any]) -> Any:
    changes = {}
    for name, value in given.items():
        if isinstance(value, dict):   # a nested settings dataclass
            inner = getattr(base, name) if base is not None else default_of(cls, name)
            value = _apply(type(inner), inner, value)
        changes[name] = value
    return dataclasses.replace(base, **changes) if base is not None else cls(**changes)


def config_from_args(cls: type, args: argparse.Namespace, base: Any = None, prefix: str = "",
                     environ: Mapping[str, str] | None = None) -> Any:
    """``cls`` built from the parsed options that :func:`add_options` added: the fields the
    user typed (else those whose ``env`` variable is set) override ``base`` (default: the
    class defaults); the dataclass validates.

    Raises:
        ValueError: the combination is invalid (each field alone was checked while parsing),
            or an environment variable holds a bad value (it is named).
    """
    environ = os.environ if environ is None else environ
    return _apply(cls, base, _given(cls, args, prefix.replace("-", "_"), environ))


# ---------------------------------------------------------------------------- options outside the settings
def add_output_option(parser: Parser, default: str, what: str) -> None:
    """``--output/-o DIR``: where a command writes its report files."""
    parser.add_argument("--output", "-o", default=default, help=f"folder for {what} (default {default})")


def add_progress_option(parser: Parser) -> None:
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def fail(exc: BaseException | str, code: int = 2) -> int:
    """Print ``ERROR: ...`` on stderr and return the exit code (2: bad input or setting)."""
    print(f"ERROR: {exc}", file=sys.stderr)
    return code
