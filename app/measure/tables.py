"""Plain-text and Markdown tables for reports (evaluate, bench, bench/latency.py).

One row format for both renderings, so the printed table and the Markdown file a
user pastes into a ticket always show the same numbers; each report is saved as a
JSON file (for scripts) beside its Markdown file (for people).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from models.files import atomic_write_text

Row = Sequence[Any]


def cell(value: Any) -> str:
    """Numbers rounded for reading (3 decimals below 10, 1 below 1000, none above);
    ``None`` (not measured) as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        digits = 3 if abs(value) < 10 else 1 if abs(value) < 1000 else 0
        return f"{value:.{digits}f}"
    return str(value)


def _cells(rows: Sequence[Row]) -> List[List[str]]:
    return [[cell(v) for v in row] for row in rows]


def text_table(headers: Sequence[str], rows: Sequence[Row]) -> str:
    """Columns aligned with spaces; numbers right-aligned, text left-aligned."""
    body = _cells(rows)
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    numeric = [all(_is_number(r[i]) for r in rows) and bool(rows) for i in range(len(headers))]

    def fmt(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric)).rstrip()

    lines = [fmt(headers), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in body]
    return "\n".join(lines)


def markdown_table(headers: Sequence[str], rows: Sequence[Row]) -> str:
    """GitHub-flavoured Markdown; numeric columns right-aligned."""
    numeric = [all(_is_number(r[i]) for r in rows) and bool(rows) for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---:" if num else "---" for num in numeric) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in _cells(rows)]
    return "\n".join(lines)


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def write_report_files(out_dir: Path, name: str, data: Dict[str, Any], markdown: str) -> Tuple[Path, Path]:
    """``<name>.json`` and ``<name>.md`` under ``out_dir``, each written atomically."""
    json_path, md_path = out_dir / f"{name}.json", out_dir / f"{name}.md"
    atomic_write_text(json_path, json.dumps(data, ensure_ascii=False, indent=2))
    atomic_write_text(md_path, markdown)
    return json_path, md_path
