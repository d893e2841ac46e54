"""Traced numbers: the operator formulas evaluated once on symbols, to be compiled.

A ``Sym`` stands for a number not known yet (a pass's batch, new tokens, cached tokens)
or an expression of such numbers. The formulas of ``ops``, ``attention``, ``moe``,
``sharding``, ``timing`` and ``curves`` run unchanged on them: arithmetic builds
expression nodes, and the ``xp`` functions (the curves' knot lookup uses ``xp.bisect`` and
``xp.take``) hand a traced argument to ``Sym.__xp__``. Nothing is simplified or reordered
(a node is the very operation the formula performs, on the same Python number types;
only x·1 and x + 0, and x·1.0 and x + 0.0 for a float x, are x itself), so compiled code
(engine/compiled.py) computes bit for bit what the formula computes on numbers. Within
``tracing()`` the same operation on the same operands is one node.

Branches: every node carries bounds [lo, hi] derived from its symbols' ranges (batch at
least 1, new tokens at least 2 or exactly 1, cached tokens at least 1 or exactly 0). A
comparison the bounds decide is a decided truth value (``bool`` works on it); one they
do not decide becomes a node (``xp.where`` then keeps both sides). Any other use of a
traced value as a truth value, or as a Python float, raises ``Untraceable``: the caller
then evaluates the formulas on numbers (never a wrong answer, only a slower one).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

_SCALARS = (int, float)
INF = math.inf
_TINY = 5e-324  # the smallest positive float: a bound for "more than 0"


_INTERN: dict[tuple[Any, ...], Sym] | None = None  # while tracing: each node made once


@contextlib.contextmanager
def tracing(table: dict[tuple[Any, ...], Sym] | None = None) -> Iterator[None]:
    """Within: an operation repeated on the same operands gives the same node (the
    compiled code computes it once), so a trace shares what its formulas recompute.
    ``table``: the nodes of an earlier trace to go on from (a later trace over its
    records then shares its nodes too); default a new one."""
    global _INTERN
    outer, _INTERN = _INTERN, {} if table is None else table
    try:
        yield
    finally:
        _INTERN = outer


def _key(x: Any) -> Any:
    if type(x) is Sym:
        return id(x)  # the interned node is held by the table: its id stays its own
    if type(x) is float or type(x) is tuple:
        return (type(x), repr(x))  # 0.0 and -0.0 apart, also in a table (knots: shared)
    return (type(x), x)


def node(op: str, args: tuple[Any, ...], lo: float, hi: float) -> Sym:
    """The node ``op(args)``: while tracing, the one already made for the same operands."""
    if _INTERN is None:
        return Sym(op, args, lo, hi)
    key = (op, *(_key(a) for a in args))
    hit = _INTERN.get(key)
    if hit is None:
        hit = _INTERN[key] = Sym(op, args, lo, hi)  # holding its operands: ids stay theirs
    return hit


class Untraceable(TypeError):
    """A formula branched on, or converted, a value only known at run time."""


def _bounds(x: Any) -> tuple[float, float]:
    if type(x) is Sym:
        return x.lo, x.hi
    return (x, x) if type(x) in _SCALARS else (-INF, INF)


def _product(a: float, b: float) -> float:
    return 0.0 if a == 0 or b == 0 else a * b  # 0·∞ is 0 here: a bound, not a value


def _mul_bounds(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    corners = [_product(x, y) for x in a for y in b]
    return min(corners), max(corners)


def _div_bounds(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    if b[0] > 0 or b[1] < 0:
        inverse = (1 / b[1] if b[1] != 0 else INF, 1 / b[0] if b[0] != 0 else INF)
        lo, hi = _mul_bounds(a, (min(inverse), max(inverse)))
        if a[0] >= 1e-15 and b[0] > 0:  # over any finite positive float: still above 0
            lo = max(lo, _TINY)
        return lo, hi
    return -INF, INF


def _floor_bounds(lo_hi: tuple[float, float]) -> tuple[float, float]:
    lo, hi = lo_hi
    return (
        math.floor(lo) if math.isfinite(lo) else lo,
        math.floor(hi) if math.isfinite(hi) else hi,
    )


def _monotone(fn: Callable[[float], float], lo_hi: tuple[float, float]) -> tuple[float, float]:
    try:
        return fn(lo_hi[0]), fn(lo_hi[1])
    except (ValueError, OverflowError):
        return -INF, INF


_BINARY_BOUNDS: dict[str, Callable[..., tuple[float, float]]] = {
    "+": lambda a, b: (a[0] + b[0], a[1] + b[1]),
    "-": lambda a, b: (a[0] - b[1], a[1] - b[0]),
    "*": _mul_bounds,
    "/": _div_bounds,
    "//": lambda a, b: _floor_bounds(_div_bounds(a, b)),
    "%": lambda a, b: (0.0, b[1]) if b[0] > 0 else (-INF, INF),
    "**": lambda a, b: (-INF, INF),
}
_UNARY = {"expm1": math.expm1, "log1p": math.log1p, "log": math.log}
_COMPARISONS = ("<", "<=", ">", ">=", "&")
_FLOAT_RESULTS = ("/", "float", "power", "expm1", "log1p", "log")


def _identity(op: str, constant: Any, other: Any) -> bool:
    """``other op constant`` is ``other`` itself (its type and value): x·1 and x + 0, and
    x·1.0 and x + 0.0 for a float x."""
    if op not in ("*", "+") or type(constant) not in _SCALARS:
        return False
    unit = 1 if op == "*" else 0
    if type(constant) is int:
        return constant == unit
    return constant == unit and type(other) is Sym and other.is_float


def _int(x: Any) -> bool:
    return type(x) is int or (type(x) is Sym and x.is_int)


def _int_product(a: Any, b: Any) -> Any:
    """a·b of two ints, one a constant: x·j·k is x·(j·k), one operation (exact for ints, in
    any order), and x·0 is 0."""
    node_, k = (a, b) if type(b) is int else (b, a)
    if type(node_) is int:
        return node_ * k
    if k == 0:
        return 0
    if node_.op == "*":
        x, j = node_.args
        if type(x) is int:
            x, j = j, x
        if type(j) is int:
            node_, k = x, j * k
    if k == 1:
        return node_
    lo, hi = _BINARY_BOUNDS["*"](_bounds(node_), (k, k))
    return node("*", (node_, k), lo, hi)


def _conjunction(a: Any, b: Any) -> Any:
    truths = [x.truth if type(x) is Sym else bool(x) for x in (a, b)]
    if False in truths:
        return False
    if truths == [True, True]:
        return True
    if truths[0] is True:
        return b
    if truths[1] is True:
        return a
    return Sym("&", (a, b), 0, 1)


class Sym:
    """One node: ``op`` over ``args`` (numbers or nodes), its bounds, the symbols it
    depends on (a bit mask) and, for a decided comparison, its truth value."""

    __slots__ = ("args", "deps", "hi", "is_float", "is_int", "lo", "op", "truth")
    is_float: bool
    is_int: bool
    __hash__ = None  # type: ignore[assignment]  # unhashable: memo dicts pass it by

    def __init__(self, op: str, args: tuple[Any, ...], lo: float, hi: float, deps: int = 0) -> None:
        self.op, self.args, self.lo, self.hi = op, args, lo, hi
        self.deps = deps
        floats = 0
        for a in args:
            if type(a) is Sym:
                self.deps |= a.deps
                floats += bool(a.is_float)
            else:
                floats += type(a) is float
        # Whether its value is surely a Python float (then x + 0.0 and x·1.0 are x).
        if op in _FLOAT_RESULTS:
            self.is_float = True
        elif op in ("+", "-", "*", "//", "%", "neg"):
            self.is_float = floats > 0
        elif op in ("minimum", "maximum"):
            self.is_float = floats == 2
        elif op == "where":
            self.is_float = all(
                type(a) is float or (type(a) is Sym and a.is_float) for a in args[1:]
            )
        else:
            self.is_float = False
        # Whether its value is surely a Python int (exact: products of ints reassociate).
        if op == "symbol" or op == "bisect":
            self.is_int = True
        elif op in ("+", "-", "*", "//", "%", "neg", "minimum", "maximum"):
            self.is_int = all(_int(a) for a in args)
        elif op == "where":
            self.is_int = _int(args[1]) and _int(args[2])
        else:
            self.is_int = False
        self.truth: bool | None = None

    @classmethod
    def symbol(cls, name: str, lo: float, bit: int) -> Sym:
        return cls("symbol", (name,), lo, INF, bit)

    def __repr__(self) -> str:
        return f"Sym({self.op}, {self.args!r})"

    # ---- arithmetic: one node per operation, in the formula's own order ----------------

    def _binary(self, op: str, a: Any, b: Any) -> Any:
        if type(a) not in (*_SCALARS, Sym) or type(b) not in (*_SCALARS, Sym):
            return NotImplemented
        # x·1, 1·x, x + 0 and 0 + x are x, of its own type and value: not operations.
        if _identity(op, b, a):
            return a
        if op in ("*", "+") and _identity(op, a, b):
            return b
        if op == "*" and (type(a) is int or type(b) is int) and _int(a) and _int(b):
            return _int_product(a, b)
        lo, hi = _BINARY_BOUNDS[op](_bounds(a), _bounds(b))
        return node(op, (a, b), lo, hi)

    def __add__(self, o: Any) -> Any:
        return self._binary("+", self, o)

    def __radd__(self, o: Any) -> Any:
        return self._binary("+", o, self)

    def __sub__(self, o: Any) -> Any:
        return self._binary("-", self, o)

    def __rsub__(self, o: Any) -> Any:
        return self._binary("-", o, self)

    def __mul__(self, o: Any) -> Any:
        return self._binary("*", self, o)

    def __rmul__(self, o: Any) -> Any:
        return self._binary("*", o, self)

    def __truediv__(self, o: Any) -> Any:
        return self._binary("/", self, o)

    def __rtruediv__(self, o: Any) -> Any:
        return self._binary("/", o, self)

    def __floordiv__(self, o: Any) -> Any:
        return self._binary("//", self, o)

    def __rfloordiv__(self, o: Any) -> Any:
        return self._binary("//", o, self)

    def __mod__(self, o: Any) -> Any:
        return self._binary("%", self, o)

    def __rmod__(self, o: Any) -> Any:
        return self._binary("%", o, self)

    def __pow__(self, o: Any) -> Any:
        return self._binary("**", self, o)

    def __rpow__(self, o: Any) -> Any:
        return self._binary("**", o, self)

    def __neg__(self) -> Sym:
        return node("neg", (self,), -self.hi, -self.lo)

    # ---- comparisons: decided by the bounds, else a node ------------------------------

    def _compare(self, op: str, a: Any, b: Any) -> Sym:
        (alo, ahi), (blo, bhi) = _bounds(a), _bounds(b)
        made = node(op, (a, b), 0, 1)
        if op == "<":
            made.truth = True if ahi < blo else False if alo >= bhi else None
        elif op == "<=":
            made.truth = True if ahi <= blo else False if alo > bhi else None
        elif op == ">":
            made.truth = True if alo > bhi else False if ahi <= blo else None
        else:  # ">="
            made.truth = True if alo >= bhi else False if ahi < blo else None
        return made

    def __lt__(self, o: Any) -> Sym:
        return self._compare("<", self, o)

    def __le__(self, o: Any) -> Sym:
        return self._compare("<=", self, o)

    def __gt__(self, o: Any) -> Sym:
        return self._compare(">", self, o)

    def __ge__(self, o: Any) -> Sym:
        return self._compare(">=", self, o)

    def __eq__(self, o: object) -> bool:
        raise Untraceable("a traced value compared for equality")

    def __ne__(self, o: object) -> bool:
        raise Untraceable("a traced value compared for equality")

    def __and__(self, o: Any) -> Any:  # element-wise ``and`` of truth values, as numpy's
        return _conjunction(self, o)

    def __rand__(self, o: Any) -> Any:
        return _conjunction(o, self)

    def __bool__(self) -> bool:
        if self.truth is not None:
            return self.truth
        if self.op not in _COMPARISONS and (self.lo > 0 or self.hi < 0):
            return True  # a number the bounds keep away from 0 (``if time_s:``)
        raise Untraceable(f"a branch on a value known only at run time ({self.op})")

    def all(self) -> bool:  # numpy's spelling, as formulas use on arrays
        return bool(self)

    def any(self) -> bool:
        return bool(self)

    def __float__(self) -> float:
        raise Untraceable("a traced value converted to a float")

    __int__ = __index__ = __float__

    # ---- the xp functions and the curves (inputs/xp.py, engine/curves.py) --------------

    @staticmethod
    def __xp__(name: str, *args: Any) -> Any:
        if name == "minimum" or name == "maximum":
            (alo, ahi), (blo, bhi) = _bounds(args[0]), _bounds(args[1])
            pick = min if name == "minimum" else max
            return node(name, args, pick(alo, blo), pick(ahi, bhi))
        if name == "where":
            condition, yes, no = args
            if type(condition) is Sym and condition.truth is not None:
                return yes if condition.truth else no
            (ylo, yhi), (nlo, nhi) = _bounds(yes), _bounds(no)
            return node("where", args, min(ylo, nlo), max(yhi, nhi))
        if name == "float":
            return node("float", args, *_bounds(args[0]))
        if name == "power":
            return node("power", args, -INF, INF)
        if name in _UNARY:
            return node(name, args, *_monotone(_UNARY[name], _bounds(args[0])))
        if name == "take":  # a constant sequence at a traced index
            return node("take", args, -INF, INF)
        if name == "bisect":  # the insertion point of a traced value in constant knots
            return node("bisect", args, 0, len(args[0]))
        raise Untraceable(f"xp.{name} of a traced value")
