"""Markdown tables of the reports: the run report's (first column left, numbers right) and
the experiment reports' (default alignment)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table, first column left-aligned, the others right-aligned."""
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def md_table_plain(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A Markdown table with the renderer's default alignment (experiment reports)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def md_escape(text: str) -> str:
    """Text safe inside a Markdown table cell (a '|' would end the cell)."""
    return text.replace("|", "\\|")
