"""Rewrite a measured profile's v1 efficiency table as v2 (``engine.calibration.upgrade_v1``).

The engine reads v1 tables through the same function, so the converted file predicts
exactly what the v1 file did; the v1 table (with its raw measured times) is kept under
``machine.efficiency_table_v1``. ``python -m llm_roofline.measure.convert PROFILE.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..engine.calibration import TABLE_FORMAT_V1
from ..engine.calibration_v1 import upgrade_v1


def convert_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile with its table in v2 (unchanged if it already is)."""
    table = profile.get("efficiency_table")
    if not isinstance(table, dict) or table.get("format") != TABLE_FORMAT_V1:
        return profile
    v2 = upgrade_v1(table) | {k: table[k] for k in ("backend", "device", "quick") if k in table}
    machine = dict(profile.get("machine", {})) | {"efficiency_table_v1": table}  # raw times kept
    return profile | {"efficiency_table": v2, "machine": machine}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m llm_roofline.measure.convert PROFILE.json", file=sys.stderr)
        return 2
    path = Path(argv[0])
    profile = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(convert_profile(profile), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
