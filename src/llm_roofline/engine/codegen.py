"""Python source from traced nodes (engine/symbolic.py): what engine/compiled.py runs.

Each traced operation becomes one expression in the formulas' own order, on the same
number types (Python's operators, and for the ``xp`` functions the expression of their
branch for numbers), so the source computes bit for bit what the formulas compute. A node
used once is written inside its one user's expression; others get a statement each.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

from .symbolic import Sym

BATCH, NEW, PAST = 1, 2, 4  # the symbols' bits in ``Sym.deps``


def _plain(x: tuple[Any, ...]) -> bool:
    """Numbers, strings and such tuples only (a table: one constant, not rebuilt per call)."""
    return all(type(v) in (int, float, str, bool) or (type(v) is tuple and _plain(v)) for v in x)


# The code of each traced operation over its operands: Python's own operators, and for the
# ``xp`` functions the very expression of their branch for numbers (inputs/xp.py).
_CODE = {
    op: f"{{0}} {op} {{1}}"
    for op in ("+", "-", "*", "/", "//", "%", "**", "<", "<=", ">", ">=", "&")
}
_CODE |= {
    "neg": "-{0}",
    "minimum": "{0} if {0} <= {1} else {1}",
    "maximum": "{0} if {0} >= {1} else {1}",
    "where": "{1} if {0} else {2}",
    "float": "float({0})",
    "power": "float({0}) ** {1}",
    "expm1": "_expm1({0})",
    "log1p": "_log1p({0})",
    "log": "_log({0})",
    "take": "{0}[{1}]",
    "bisect": "_bisect({0}, {1})",
}


_REPEATS = {op for op, code in _CODE.items() if code.count("{0}") > 1 or code.count("{1}") > 1}
_INLINE_CHARS = 160  # an expression inlined into its one user is at most this long


class _Source:
    """Python source computing some expressions of traced nodes, each node once.

    A node used once is written inside its user's expression (parenthesized: the same
    operations in the same order, so the same result), not as a statement of its own:
    fewer stores and loads. A node is named instead where its user's code repeats an
    operand (``minimum``, ``maximum``), where the expression would grow long, and, in a
    loop over the cached tokens (``over_past``), where the node is computed before the loop
    and its user inside it."""

    def __init__(self, value: Any, over_past: bool = False) -> None:
        self.lines: list[tuple[int, str]] = []  # (the symbols it depends on, the statement)
        self.names: dict[int, str] = {}
        self.namespace: dict[str, Any] = {
            "_new": tuple.__new__, "_inf": math.inf, "_nan": math.nan,
            "_expm1": math.expm1, "_log1p": math.log1p, "_log": math.log,
            "_bisect": bisect.bisect_right,
        }  # fmt: skip
        self._held: list[Any] = []  # what is named here stays alive (its id stays its own)
        self._constants: dict[int, str] = {}
        self._uses = _uses(value)
        self._split = PAST if over_past else 0  # deps bits that put a node inside the loop
        self._user_deps: int | None = None  # of the node whose operands are being written

    def ref(self, x: Any) -> str:
        if type(x) is Sym:
            return self._node(x)
        if type(x) is bool or type(x) is int or type(x) is str:
            return repr(x) if type(x) is not int or x >= 0 else f"({x!r})"
        if type(x) is float:
            if math.isnan(x):
                return "_nan"
            if math.isinf(x):
                return "_inf" if x > 0 else "(-_inf)"
            return repr(x) if x >= 0 else f"({x!r})"
        if type(x) is tuple and (len(x) <= 8 or not _plain(x)):
            return "(" + "".join(self.ref(v) + ", " for v in x) + ")"
        if isinstance(x, tuple) and hasattr(type(x), "_fields"):  # a NamedTuple record
            return f"_new({self.ref(type(x))}, {self.ref(tuple(x))})"
        if dataclasses.is_dataclass(x) and not isinstance(x, type):  # a report record
            made = ", ".join(self.ref(getattr(x, f.name)) for f in dataclasses.fields(x))
            return f"{self.ref(type(x))}({made})"
        if x is None:
            return "None"
        name = self._constants.get(id(x))
        if name is None:  # a function or a table: one global each
            name = self._constants[id(x)] = f"_g{len(self.namespace)}"
            self.namespace[name] = x
            self._held.append(x)
        return name

    def _node(self, s: Sym) -> str:
        name = self.names.get(id(s))
        if name is not None:
            return name
        op, args = s.op, s.args
        if op == "symbol":
            return str(args[0])
        if s.truth is not None:
            return repr(s.truth)
        if op not in _CODE:
            raise AssertionError(f"no code for the traced operation {op!r}")
        user, self._user_deps = self._user_deps, None if op in _REPEATS else s.deps
        try:
            expr = _CODE[op].format(*(self.ref(a) for a in args))
        finally:
            self._user_deps = user
        inline = (
            user is not None
            and self._uses.get(id(s)) == 1
            and len(expr) <= _INLINE_CHARS
            and (s.deps & self._split) == (user & self._split)  # same side of the loop
        )
        if inline:
            return f"({expr})"
        name = self.names[id(s)] = f"t{len(self.names)}"
        self._held.append(s)
        self.lines.append((s.deps, f"{name} = {expr}"))
        return name

    def function(self, returned: str, label: str) -> Callable[..., Any]:
        """``compiled(b, n, c)`` returning the expression ``returned``."""
        body = "\n".join(f"    {text}" for _deps, text in self.lines)
        return self._define(f"def compiled(b, n, c):\n{body}\n    return {returned}\n", label)

    def sums_over_past(self, terms: Sequence[str], label: str) -> Callable[..., Any]:
        """``compiled(b, n, lo, offsets, weights)``: for each expression of ``terms``, its
        Σ_k weights[k] · term at c = lo + offsets[k] (summed in that order), as a tuple;
        what does not depend on c is computed once, before the loop."""
        before = [f"    {text}" for deps, text in self.lines if not deps & PAST]
        inside = [f"        {text}" for deps, text in self.lines if deps & PAST]
        sums = [f"_s{i}" for i in range(len(terms))]
        body = "\n".join(
            [*before, *(f"    {s} = 0.0" for s in sums),
             "    for _k, _w in zip(offsets, weights):", "        c = lo + _k", *inside,
             *(f"        {s} += _w * {term}" for s, term in zip(sums, terms, strict=True))]
        )  # fmt: skip
        returned = "(" + "".join(f"{s}, " for s in sums) + ")"
        head = "def compiled(b, n, lo, offsets, weights):"
        return self._define(f"{head}\n{body}\n    return {returned}\n", label)

    def _define(self, text: str, label: str) -> Callable[..., Any]:
        exec(compile(text, f"<llm-roofline {label}>", "exec"), self.namespace)
        fn: Callable[..., Any] = self.namespace["compiled"]
        return fn


def _uses(value: Any) -> dict[int, int]:
    """How many times each traced node is an operand (or part of ``value``), by id."""
    uses: dict[int, int] = {}
    stack = [value]
    while stack:
        x = stack.pop()
        if type(x) is Sym:
            if x.op == "symbol" or x.truth is not None:
                continue
            n = uses[id(x)] = uses.get(id(x), 0) + 1
            if n == 1:
                stack.extend(x.args)
        elif isinstance(x, tuple):  # NamedTuple records too
            stack.extend(x)
        elif dataclasses.is_dataclass(x) and not isinstance(x, type):
            stack.extend(getattr(x, f.name) for f in dataclasses.fields(x))
    return uses


def source(value: Any, label: str, over_past: bool = False) -> Callable[..., Any]:
    """A function of (b, n, c) returning ``value`` (traced nodes in any nesting of tuples,
    operator records and report records), each node computed once; ``over_past``: of a
    tuple ``value``, each element's weighted sum over several c (``_Source.sums_over_past``)."""
    src = _Source(value, over_past)
    if over_past:
        return src.sums_over_past([src.ref(v) for v in value], label)
    return src.function(src.ref(value), label)
