"""The web page: one self-contained HTML file that embeds report JSON and computes nothing.

``render_html(reports, findings)`` fills the template ``templates/report.html`` (inline CSS and
vanilla JS, no external resources, works from ``file://``) with one JSON document::

    {"reports": [<report/v1 document>, ...], "findings": [[str, ...], ...] | null}

Each report is exactly ``Report.to_dict()``; ``findings``, when given, holds one list of
lines per report. The page's script reads that JSON and only formats and places numbers.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

TEMPLATE = "templates/report.html"
PLACEHOLDER = "__LLM_ROOFLINE_DATA__"


def embed_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` escaped.

    The escapes are JSON's own (``\\u003c``), so the text parses back to the same data and
    no ``</script>`` or ``<!--`` in a string can end the block. NaN and infinity, which
    JSON.parse rejects, are errors here rather than a blank page.
    """
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def template() -> str:
    return files("llm_roofline.render").joinpath(TEMPLATE).read_text(encoding="utf-8")


def render_html(reports: list[dict[str, Any]], findings: list[list[str]] | None = None) -> str:
    """The page for ``reports`` (``Report.to_dict()`` documents; several: a device switcher)."""
    if not reports:
        raise ValueError("render_html: no report given")
    if findings is not None and len(findings) != len(reports):
        raise ValueError(f"render_html: {len(findings)} findings lists for {len(reports)} reports")
    page = template()
    if page.count(PLACEHOLDER) != 1:  # pragma: no cover - a broken package
        raise RuntimeError(f"{TEMPLATE}: expected one {PLACEHOLDER}")
    return page.replace(PLACEHOLDER, embed_json({"reports": reports, "findings": findings}))
