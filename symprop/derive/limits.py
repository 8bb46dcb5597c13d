"""Bounds on derivations: structural limits on expressions, and a time budget.

The structural limits are the real defence: the parser refuses formulas nested too deeply or
with numbers and exponents too large (:mod:`symprop.derive.parsing`), :func:`check_expression`
applies the same limits to SymPy expressions given directly, and :func:`expansion_size`
lets the simplifier skip rewrites whose polynomial expansion would be huge.

The time budget is a last line of defence for what those limits miss. :func:`time_budget`
raises :class:`~symprop.errors.FormulaError` when its body runs longer than
:data:`BUDGET_SECONDS`. It works through ``SIGALRM`` (``signal.setitimer``), so it is armed
only in the main thread on POSIX systems; in other threads and on Windows only the
structural limits apply. Nested uses share the outermost budget (only the outermost arms
the timer). A timer someone else armed is respected: one due sooner than the budget is
left alone (the budget is then not armed), one due later is re-armed with its remaining
time when the budget ends, and the previous ``SIGALRM`` handler is restored.

The alarm raises an exception derived from ``BaseException`` (SymPy's ``except Exception``
cannot swallow it) and repeats every :data:`REPEAT_SECONDS` until it gets through (past a
bare ``except:``); a body that swallowed it and still finished is refused all the same. An
alarm interrupts Python code only between bytecodes, so one long C call (a huge integer
product) is not interrupted: that is what the structural limits are for. A
``RecursionError`` inside a budget (SymPy recurses on deep expressions) also becomes a
FormulaError, as do the errors SymPy raises where it cannot carry a derivation through
(:data:`SYMPY_FAILURES`).
"""

from __future__ import annotations

import functools
import inspect
import math
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

import sympy as sp

from symprop.errors import FormulaError, SympropError

BUDGET_SECONDS = 4.0  # per public derivation; each of the built-ins takes < 0.2 s
REPEAT_SECONDS = 0.25  # after the budget, the alarm repeats until it gets through
MAX_NESTING = 32  # nested calls/powers in a formula (sin(sin(...)) 140 deep recursed out)
MAX_RESULT_DIGITS = 330  # digits of any number; every finite float64 literal fits
MAX_EXPONENT = 64  # |exponent| of a power of a non-number (polynomial degree)
MAX_DENOMINATOR = 1000  # of a fractional exponent (x**1.702 is x**(851/500))
MAX_EXPANSION_TERMS = 400  # terms a polynomial rewrite may expand into (~0.5 s at 400)
MAX_EXPONENT_TERMS = 8  # terms of an exponent, each a factor exp(term) once expanded
MAX_TERM_NODES = 25  # average nodes of an expanded term: 400 terms of 25 nodes, 10,000 nodes
MAX_NODES = 20_000  # nodes of any expression a derivation produces
MAX_EXP_ARGUMENT = MAX_RESULT_DIGITS * math.log(10)  # exp(x) for x beyond has more digits


class _Expired(BaseException):
    """Raised by the alarm handler. A BaseException, so that SymPy's own ``except Exception``
    (and ``except ValueError``: a FormulaError is one) cannot swallow it."""


_nesting = 0  # depth of time_budget contexts in the main thread


def _can_arm() -> bool:
    return (hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread())


def shorten(text, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for an error message."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(what) -> str:
    return what() if callable(what) else str(what)


@contextmanager
def time_budget(what: str | Callable[[], str], seconds: float | None = None):
    """Run the body within ``seconds`` (default :data:`BUDGET_SECONDS`), or raise a
    FormulaError saying ``what`` took too long. ``what`` may be a callable, evaluated only
    for the message."""
    global _nesting
    limit = BUDGET_SECONDS if seconds is None else float(seconds)
    if not _can_arm() or _nesting:
        if _can_arm():
            _nesting += 1
        try:
            with _failures_refused(what):
                yield
        finally:
            if _can_arm():
                _nesting -= 1
        return
    previous_handler = signal.getsignal(signal.SIGALRM)
    previous_delay, previous_interval = signal.getitimer(signal.ITIMER_REAL)
    # A handler set outside Python (None) cannot be restored: the budget stays unarmed.
    # Otherwise one timer serves both: a timer someone else armed still fires on time
    # (their handler runs from ours), and the budget's alarm comes at its own time.
    arm = previous_handler is not None
    state = {"active": arm, "fired": False,
             "theirs": previous_delay if previous_delay > 0 else None}

    def rearm(now: float) -> None:
        due = limit - now if now < limit else REPEAT_SECONDS
        if state["theirs"] is not None:
            due = min(due, max(state["theirs"] - now, 1e-6))
        signal.setitimer(signal.ITIMER_REAL, max(due, 1e-6))

    def on_alarm(signum, frame):
        if not state["active"]:
            return
        now = time.monotonic() - started
        if state["theirs"] is not None and now >= state["theirs"] - 1e-4:
            # their timer's moment: the next one (interval timers repeat), then theirs runs
            state["theirs"] = state["theirs"] + previous_interval if previous_interval else None
            rearm(now)
            _deliver(previous_handler, signum, frame)
            return
        if now >= limit - 1e-4:
            state["fired"] = True
            rearm(now)  # repeats: should SymPy swallow one alarm (a bare except), it comes again
            raise _Expired
        rearm(now)

    def disarm():
        state["active"] = False
        if arm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
            if state["theirs"] is not None:
                remaining = state["theirs"] - (time.monotonic() - started)
                signal.setitimer(signal.ITIMER_REAL, max(remaining, 1e-6), previous_interval)

    def expired() -> FormulaError:
        return FormulaError(f"{_describe(what)} took longer than {limit:g} s, the limit of a "
                            "derivation; simplify the formula")

    started = time.monotonic()
    _nesting += 1
    if arm:
        signal.signal(signal.SIGALRM, on_alarm)
        rearm(0.0)
    try:
        with _failures_refused(what):
            yield
    except _Expired:
        raise expired() from None
    finally:
        _nesting -= 1
        while True:
            try:
                disarm()
                break
            except _Expired:  # the alarm came just as the body ended: disarm once more
                continue
    if state["fired"]:  # an alarm swallowed inside SymPy: its result is not to be trusted
        raise expired()


def _deliver(handler, signum, frame) -> None:
    """Run the SIGALRM handler a timer armed before the budget belongs to: theirs, or the
    default (which ends the process, as it would have without the budget)."""
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGALRM)


# What SymPy raises where it cannot carry a derivation through (an unsolvable condition, an
# overflow inside mpmath, an undecidable comparison): a formula it cannot handle, not a bug
# of the caller's. The original exception stays chained for whoever debugs SymPy.
SYMPY_FAILURES = (NotImplementedError, OverflowError, ArithmeticError, TypeError, ValueError)


@contextmanager
def _failures_refused(what):
    try:
        yield
    except SympropError:  # already says what is wrong (an unknown name, a bad value)
        raise
    except RecursionError:
        raise FormulaError(f"{_describe(what)} is nested too deeply to derive (Python's "
                           "recursion limit was reached)") from None
    except SYMPY_FAILURES as exc:
        raise FormulaError(f"{_describe(what)}: SymPy could not carry the derivation through "
                           f"({type(exc).__name__}: {shorten(exc, 80)})") from exc


def bounded(what: str | Callable[..., str], seconds: Callable[..., float] | None = None):
    """Decorator: run the function within a time budget. ``what`` is a text or a callable
    of the function's arguments giving one (evaluated only for an error message);
    ``seconds``, a callable of the same arguments, scales the budget."""

    def wrap(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def inner(*args, **kwargs):
            # A wrong call is the caller's TypeError, raised before the budget can take it
            # for SymPy failing on the formula.
            signature.bind(*args, **kwargs)

            def describe() -> str:
                return what(*args, **kwargs) if callable(what) else what

            limit = None if seconds is None else seconds(*args, **kwargs)
            with time_budget(describe, limit):
                return function(*args, **kwargs)

        return inner

    return wrap


# -- structural limits -------------------------------------------------------------------
def digits(number: sp.Rational) -> int:
    """Decimal digits of the larger of numerator and denominator, from their bit lengths
    (``str`` of a huge integer is itself refused past 4300 digits)."""
    bits = max(abs(int(number.p)).bit_length(), int(number.q).bit_length())
    return int(bits * math.log10(2)) + 1


def number_problem(node: sp.Basic) -> str | None:
    """What is too large about this one node (not its arguments), or None."""
    if isinstance(node, sp.Rational):
        if digits(node) > MAX_RESULT_DIGITS:
            return f"a number with more than {MAX_RESULT_DIGITS} digits"
        return None
    if isinstance(node, sp.exp):
        base, exponent = sp.E, node.args[0]
    elif isinstance(node, sp.Pow) and not (node.base.is_number and node.exp.is_number):
        base, exponent = node.base, node.exp
    else:
        return None
    # Expanding splits b**(c + d*t) into b**c * (b**(t/q))**p with d = p/q: b**c must be a
    # number of bounded size, and p a polynomial degree of a bounded one.
    for term in sp.Add.make_args(exponent):
        if term.is_number and base.is_number:
            size = abs(_float(term)) * abs(math.log(abs(_float(base)) or 1.0))
            if not size <= MAX_EXP_ARGUMENT:
                return (f"the power {sp.sstr(base)}**({shorten(sp.sstr(term), 30)}), more than "
                        f"{MAX_RESULT_DIGITS} digits")
            continue
        if term.is_number and not term.is_Rational:
            continue  # x**pi: one generator of its own, no degree to blow up
        coefficient = term.as_coeff_Mul(rational=True)[0]
        if (coefficient.q == 1 and abs(coefficient.p) > MAX_EXPONENT
                or abs(coefficient) > MAX_EXPONENT or coefficient.q > MAX_DENOMINATOR):
            return (f"the exponent {coefficient} of a power of {shorten(sp.sstr(base), 30)} "
                    f"(at most {MAX_EXPONENT} in size, with a denominator up to "
                    f"{MAX_DENOMINATOR})")
    return None


def _float(number: sp.Expr) -> float:
    try:
        return float(number.evalf(15))
    except (TypeError, ValueError, OverflowError):
        return math.inf


def check_expression(expr: sp.Basic, what: str) -> sp.Basic:
    """Refuse an expression beyond the structural limits (too many nodes, too deep, numbers
    or exponents too large): the checks the parser makes, for SymPy input."""
    nodes, stack = [], [(expr, 0)]
    while stack:
        node, depth = stack.pop()
        nodes.append(node)
        if len(nodes) > MAX_NODES:
            raise FormulaError(f"{what} has more than {MAX_NODES} nodes")
        if depth > 2 * MAX_NESTING:  # a SymPy tree is up to twice the formula's depth
            raise FormulaError(f"{what} is nested more than {2 * MAX_NESTING} levels deep")
        stack.extend((arg, depth + 1) for arg in node.args)
    # Arguments before the nodes using them: exp(exp(exp(exp(10)))) stops at the inner exp,
    # before the outer one's argument is ever evaluated.
    for node in reversed(nodes):
        problem = number_problem(node)
        if problem:
            raise FormulaError(f"{what} contains {problem}")
    return expr


def check_size(expr: sp.Basic, what: str) -> sp.Basic:
    """Refuse a derived expression of more than :data:`MAX_NODES` nodes."""
    count = 0
    for _ in sp.preorder_traversal(expr):
        count += 1
        if count > MAX_NODES:
            raise FormulaError(f"{what} has more than {MAX_NODES} nodes; simplify the formula")
    return expr


def expansion_size(expr: sp.Basic, cap: int = MAX_EXPANSION_TERMS) -> tuple[int, int]:
    """Upper estimates (saturating just above their caps) of the number of terms of ``expr``
    fully expanded, as the polynomial rewrites (expand, cancel, factor) would expand it, and
    of its size in nodes. A power of a sum of t terms to the n-th has up to C(n + t - 1,
    t - 1) terms; products multiply; expand goes into function arguments too, so a term
    holding tanh of a long polynomial is a large term."""
    node_cap = cap * MAX_TERM_NODES

    def estimate(node) -> tuple[int, int]:  # (terms, nodes of one term)
        if isinstance(node, sp.Add):
            parts = [estimate(a) for a in node.args]
            return min(sum(t for t, _ in parts), cap + 1), max(n for _, n in parts)
        if isinstance(node, sp.Mul):
            count, size = 1, 1
            for arg in node.args:
                t, n = estimate(arg)
                count, size = min(count * t, cap + 1), min(size + n, node_cap + 1)
            return count, size
        if isinstance(node, sp.Pow) and node.exp.is_Integer:
            (t, n), power = estimate(node.base), abs(int(node.exp))
            size = min(n * power, node_cap + 1)
            if t <= 1 or power <= 1:
                return t, size
            if t > cap or power > 10 * cap:
                return cap + 1, size
            return min(math.comb(power + t - 1, min(t - 1, power)), cap + 1), size
        if isinstance(node, sp.exp) or isinstance(node, sp.Pow) and not node.exp.is_number:
            # exp(a + b + ...) expands into exp(a)*exp(b)*...: one factor (and one generator
            # for the polynomial rewrites) per term of the exponent.
            t, n = estimate(node.exp)
            return (1 if t <= MAX_EXPONENT_TERMS else cap + 1), min(1 + t * n, node_cap + 1)
        if not node.args:
            return 1, 1
        parts = [estimate(a) for a in node.args]
        if any(t > cap for t, _ in parts):
            return cap + 1, node_cap + 1
        return 1, min(1 + sum(t * n for t, n in parts), node_cap + 1)

    return estimate(expr)


def expansion_too_large(expr: sp.Basic) -> bool:
    """Would expanding ``expr`` (as expand, cancel and factor do) give a huge expression, or
    a huge polynomial degree? Derivatives make exponents the parser never saw: the
    derivative of erfc(sqrt(c*y)) holds exp(-c*y)."""
    terms, nodes = expansion_size(expr)
    if terms > MAX_EXPANSION_TERMS or terms * nodes > MAX_EXPANSION_TERMS * MAX_TERM_NODES:
        return True
    return any(number_problem(node) for node in sp.preorder_traversal(expr)
               if isinstance(node, sp.Pow | sp.exp))


def bounded_expand(expr: sp.Basic, what: str) -> sp.Basic:
    """``sp.expand``, refused when the result would have too many terms."""
    if expansion_too_large(expr):
        raise FormulaError(f"{what}: expanding it would give more than {MAX_EXPANSION_TERMS} "
                           "terms; simplify the formula")
    return sp.expand(expr)
