"""Settings fields that carry their own default, help text and bounds, once.

Every settings dataclass (detector, training, loss, augmentation, export, ...) declares
its fields with :func:`setting`::

    thresh: float = setting(0.2, "pixels above it count as text", min=0.0, max=1.0, step=0.01)

and that one line drives three readers: validation (:func:`check_settings`, called from
``__post_init__``), the command line (``app/cli/options.py``) and the WebUI widgets
(``app/web/tabs/common.py``). So a bound or a default is never retyped elsewhere.

Metadata keys (all optional except ``help``):

* ``min``/``max``: inclusive bounds; ``gt``: exclusive lower bound; ``multiple_of``;
  ``choices``: allowed values. On a tuple field they apply to every element.
* ``check``: ``callable(name, value)`` raising ``ValueError`` with its own message.
* ``step``, ``ui_min``, ``ui_max``: a widget's step and a narrower useful range.
* ``cli``: False keeps the field off the command line; ``cli_name`` (without ``--``),
  ``cli_short`` (``-o``), ``cli_repeat`` (a tuple given as a repeated option instead of
  comma-separated values), ``cli_required``, ``cli_parse`` (``callable(text)`` for a value
  typed in a form of its own, like ``user:password``), ``metavar``, ``env`` (an environment
  variable that supplies the value when the option is not given).
* ``in_params``: False leaves a detector field out of each result's ``params``.
"""
from __future__ import annotations

import dataclasses
import numbers
from dataclasses import MISSING, Field
from typing import Any, Callable, Dict, List, Mapping, Sequence

META_KEYS = frozenset({
    "help", "min", "max", "gt", "multiple_of", "choices", "check", "step", "ui_min", "ui_max",
    "cli", "cli_name", "cli_short", "cli_repeat", "cli_required", "cli_parse", "metavar", "env", "in_params"})


def setting(default: Any = MISSING, help: str = "", *, default_factory: Callable[[], Any] | Any = MISSING,
            **meta: Any) -> Any:
    """A dataclass field with its help text and bounds in ``metadata`` (keys: :data:`META_KEYS`).

    Raises:
        TypeError: an unknown metadata key (a typo would silently drop a bound).
    """
    unknown = set(meta) - META_KEYS
    if unknown:
        raise TypeError(f"unknown setting metadata {sorted(unknown)}; known: {sorted(META_KEYS)}")
    if not help:
        raise TypeError("every setting needs a help text")
    meta["help"] = help
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def field_of(cls: Any, name: str) -> Field:
    """The dataclass field ``name`` of ``cls`` (a class or an instance)."""
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f
    raise KeyError(f"{getattr(cls, '__name__', type(cls).__name__)} has no setting {name!r}")


def meta_of(cls: Any, name: str) -> Mapping[str, Any]:
    return field_of(cls, name).metadata


def default_of(cls: Any, name: str) -> Any:
    """The declared default (``default_factory`` called)."""
    f = field_of(cls, name)
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    raise KeyError(f"setting {name!r} has no default")


def _num(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _choices_text(choices: Sequence[Any]) -> str:
    shown = [repr(c) if isinstance(c, str) else str(c) for c in choices]
    if len(shown) == 2:
        return f"{shown[0]} or {shown[1]}"
    return "one of " + ", ".join(shown)


def bounds_text(meta: Mapping[str, Any]) -> str:
    """The allowed range in words, e.g. ``0-1``, ``> 0``, ``multiple of 32 in 128-2048``;
    empty when the field has no numeric bounds."""
    lo, hi, gt, mult = meta.get("min"), meta.get("max"), meta.get("gt"), meta.get("multiple_of")
    if gt is not None:
        text = f"({_num(gt)}, {_num(hi)}]" if hi is not None else f"> {_num(gt)}"
    elif lo is not None and hi is not None:
        text = f"{_num(lo)}-{_num(hi)}"
    elif lo is not None:
        text = f">= {_num(lo)}"
    elif hi is not None:
        text = f"<= {_num(hi)}"
    else:
        text = ""
    if mult is not None:
        sep = ", " if text[:1] in "<>" else " in "
        text = f"multiple of {mult}" + (sep + text if text else "")
    return text


def _number_problem(name: str, v: Any, meta: Mapping[str, Any]) -> str | None:
    lo, hi, gt, mult = meta.get("min"), meta.get("max"), meta.get("gt"), meta.get("multiple_of")
    if all(b is None for b in (lo, hi, gt, mult)):
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return f"{name} must be a number (got {v!r})"
    bad = ((lo is not None and v < lo) or (hi is not None and v > hi) or (gt is not None and not v > gt)
           or (mult is not None and v % mult != 0))
    if not bad:
        return None
    if mult is not None:
        return f"{name} must be a {bounds_text(meta)} (got {_num(v)})"
    if gt is not None:
        return f"{name} must be {'in ' if hi is not None else ''}{bounds_text(meta)} (got {_num(v)})"
    if lo is not None and hi is not None:
        return f"{name} must be between {_num(lo)} and {_num(hi)} (got {_num(v)})"
    return f"{name} must be {bounds_text(meta)} (got {_num(v)})"


def value_problem(name: str, value: Any, meta: Mapping[str, Any]) -> str | None:
    """What is wrong with ``value`` for a field with this metadata, or None.

    ``None`` (an unset optional field) is always accepted; a tuple is checked element-wise.
    """
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        for item in value:
            problem = value_problem(name, item, meta)
            if problem:
                return problem
        return None
    check = meta.get("check")
    if check is not None:
        try:
            check(name, value)
        except ValueError as exc:
            return str(exc)
        return None
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        return f"{name} must be {_choices_text(choices)} (got {value!r})"
    return _number_problem(name, value, meta)


def _bool_problem(f: Field, value: Any) -> str | None:
    """A yes/no setting given anything but a boolean: the string "false" is truthy, so it
    would silently turn the setting on."""
    if f.type not in (bool, "bool") or value is None or isinstance(value, bool) or getattr(value, "dtype", None) == bool:
        return None
    return f"{f.name} must be true or false (got {value!r})"


def problems(obj: Any) -> List[str]:
    """Every field of the dataclass instance ``obj`` that breaks its metadata (or, a yes/no
    field, is not a boolean)."""
    return [p for f in dataclasses.fields(obj)
            if (p := _bool_problem(f, getattr(obj, f.name)) or value_problem(f.name, getattr(obj, f.name), f.metadata))]


def check_settings(obj: Any, what: str, extra: Sequence[str] = ()) -> None:
    """Raise one ``ValueError`` naming every bad field (and ``extra`` problems found by the
    caller's own cross-field checks): ``invalid <what> settings: a ...; b ...``."""
    found = problems(obj) + [p for p in extra if p]
    if found:
        raise ValueError(f"invalid {what} settings: " + "; ".join(found))



def from_dict(cls: Any, data: Mapping[str, Any] | None) -> Any:
    """Build ``cls`` from a recorded dict (a checkpoint's config, a JSON log), leniently.

    Keys the class does not know are ignored and missing ones take their defaults, so a
    record written by an older or newer version still loads; nested settings dataclasses
    are rebuilt from their own dicts, and lists (JSON has no tuples) become tuples.
    """
    data = data or {}
    kwargs: Dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data or not f.init:
            continue
        value = data[f.name]
        default = default_of(cls, f.name) if (f.default is not MISSING or f.default_factory is not MISSING) else None
        if dataclasses.is_dataclass(default) and isinstance(value, Mapping):
            value = from_dict(type(default), value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


def changed(old: Any, new: Any, prefix: str = "") -> List[str]:
    """``name old -> new`` for every field that differs between two instances of one settings
    class (nested settings as ``loss.alpha``); used to say what a resumed run changed."""
    out: List[str] = []
    for f in dataclasses.fields(new):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if dataclasses.is_dataclass(b) and type(a) is type(b):
            out += changed(a, b, f"{prefix}{f.name}.")
        elif a != b:
            out.append(f"{prefix}{f.name} {a!r} -> {b!r}")
    return out
