"""The ``Sweep`` result (columns of equal length) and its CSV / JSON-lines writers.

Both writers take column chunks, so a sweep of any size streams to a file without being
held whole (``write_csv(stream, run)`` with a ``SweepRun``). Floats are written in
Python's shortest round-trip form, NaN as an empty CSV field and as JSON ``null``.
pandas and polars are never dependencies: ``to_pandas``/``to_polars`` import them.
"""

from __future__ import annotations

import csv
import importlib
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

Arrays = dict[str, np.ndarray]


class Sweep:
    """Columns of a sweep: ``columns`` maps each name to a numpy array, one value per row."""

    def __init__(self, columns: Arrays) -> None:
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"sweep columns differ in length: {sorted(lengths)}")
        self.columns = columns

    @classmethod
    def concat(cls, parts: Sequence[Arrays], order: Sequence[str]) -> Sweep:
        if not parts:
            return cls({name: np.empty(0) for name in order})
        if len(parts) == 1:
            return cls(dict(parts[0]))
        names = list(parts[0])
        return cls({name: np.concatenate([p[name] for p in parts]) for name in names})

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def row(self, index: int) -> dict[str, Any]:
        """One row as plain Python values."""
        return {k: _plain(v[index]) for k, v in self.columns.items()}

    def to_csv(self, path: str | Path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as stream:
            write_csv(stream, [self.columns])

    def to_jsonl(self, path: str | Path) -> None:
        with open(path, "w", encoding="utf-8") as stream:
            write_jsonl(stream, [self.columns])

    def to_pandas(self) -> Any:
        return _library("pandas", "to_pandas").DataFrame(self.columns)

    def to_polars(self) -> Any:
        return _library("polars", "to_polars").DataFrame(self.columns)


def _library(name: str, method: str) -> Any:
    """An optional library, imported on use (never a dependency)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(f"Sweep.{method} needs {name}: pip install {name}") from exc


def _plain(value: Any) -> Any:
    plain = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(plain, float) and math.isnan(plain) else plain


def _column_lists(chunk: Arrays) -> list[list[Any]]:
    out = []
    for values in chunk.values():
        items = values.tolist()
        if values.dtype.kind == "f" and np.isnan(values).any():
            items = [None if v != v else v for v in items]  # NaN: empty field / null
        out.append(items)
    return out


def write_csv(stream: IO[str], chunks: Iterable[Arrays]) -> int:
    """A header and one line per row; returns the rows written."""
    writer = csv.writer(stream, lineterminator="\n")
    rows, header = 0, False
    for chunk in chunks:
        if not header:
            writer.writerow(list(chunk))
            header = True
        columns = _column_lists(chunk)
        writer.writerows(zip(*columns, strict=True))
        rows += len(columns[0]) if columns else 0
    return rows


def write_jsonl(stream: IO[str], chunks: Iterable[Arrays]) -> int:
    """One JSON object per row; returns the rows written."""
    rows = 0
    for chunk in chunks:
        names = list(chunk)
        for values in zip(*_column_lists(chunk), strict=True):
            stream.write(json.dumps(dict(zip(names, values, strict=True))) + "\n")
            rows += 1
    return rows
