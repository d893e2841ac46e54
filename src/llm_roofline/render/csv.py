"""CSV of a ``Report``: the operator rows of every phase, one line each, with a phase column.

Numbers are written at full precision (``repr`` of the float), so the rows of a phase sum
to its totals exactly as the report's do. An arithmetic intensity of None is empty.
"""

from __future__ import annotations

import csv
import io

from ..engine.report import OperatorRow, Report

COLUMNS: tuple[str, ...] = ("phase", *OperatorRow._fields)


def operators_csv(report: Report) -> str:
    """Header line, then one line per (phase, operator) in report order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for phase_name, phase in report.phases.items():
        for row in phase.operators:
            writer.writerow(
                [phase_name, *("" if (v := getattr(row, c)) is None else v for c in COLUMNS[1:])]
            )
    return out.getvalue()
