"""Print SymPy expressions as scalar Python that Numba compiles.

Conditionals become ternaries (never ``numpy.select``, which Numba cannot compile and which
evaluates every branch), functions come from ``math``, small integer powers are multiplied
out, and every numeric literal is cast to the kernel's float type so that float32 kernels
stay float32 (an untyped ``0.5`` or ``1`` would promote the arithmetic to float64 and halve
the SIMD width). The CUDA printer (a later stage) overrides only what differs.
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from symprop.codegen.names import checked_identifier

MATH_FUNCTIONS = {
    "exp": "math.exp", "log": "math.log", "sqrt": "math.sqrt", "tanh": "math.tanh",
    "sinh": "math.sinh", "cosh": "math.cosh", "sin": "math.sin", "cos": "math.cos",
    "tan": "math.tan", "atan": "math.atan", "asinh": "math.asinh", "erf": "math.erf",
    "erfc": "math.erfc", "Abs": "abs",
}
MAX_EXPANDED_POWER = 4


class NumbaPrinter(PythonCodePrinter):
    """SymPy -> Numba-compilable scalar Python; ``float_type`` is ``float32`` or ``float64``."""

    printmethod = "_numbacode"

    def __init__(self, float_type: str = "float64", names: dict | None = None):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self.float_type = float_type
        self.names = names or {}  # SymPy symbol -> variable name in the kernel

    # -- literals ------------------------------------------------------------------------
    def literal(self, value) -> str:
        value = float(value)
        if math.isnan(value):
            text = "np.nan"
        elif math.isinf(value):
            text = "np.inf" if value > 0 else "-np.inf"
        else:
            text = repr(value)
        return f"np.{self.float_type}({text})"

    def _print_Integer(self, expr):
        return self.literal(int(expr))

    def _print_Rational(self, expr):
        return self.literal(float(expr))

    def _print_Float(self, expr):
        return self.literal(float(expr))

    def _print_NumberSymbol(self, expr):
        return self.literal(float(expr))

    _print_Exp1 = _print_NumberSymbol
    _print_Pi = _print_NumberSymbol

    def _print_Zero(self, expr):
        return self.literal(0)

    def _print_One(self, expr):
        return self.literal(1)

    def _print_NegativeOne(self, expr):
        return self.literal(-1)

    def _print_Half(self, expr):
        return self.literal(0.5)

    def _print_BooleanTrue(self, expr):
        return "True"

    def _print_BooleanFalse(self, expr):
        return "False"

    # -- names ---------------------------------------------------------------------------
    def _print_Symbol(self, expr):
        # A symbol without a kernel name prints as its own name: only a plain identifier
        # (the parser's names are; this keeps any other text out of generated source).
        return self.names.get(expr) or checked_identifier(expr.name)

    def _print_Indexed(self, expr):
        return self.names.get(expr, super()._print_Indexed(expr))

    # -- operators -----------------------------------------------------------------------
    def _print_Pow(self, expr, rational=False):
        base, exp = expr.as_base_exp()
        b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Pow"])
        if exp.is_Integer and 1 <= exp <= MAX_EXPANDED_POWER:
            return "(" + "*".join([b] * int(exp)) + ")"
        if exp.is_Integer and -MAX_EXPANDED_POWER <= exp <= -1:
            return f"({self.literal(1)}/(" + "*".join([b] * int(-exp)) + "))"
        if exp == sp.S.Half:
            return f"math.sqrt({self._print(base)})"
        if exp == -sp.S.Half:
            return f"({self.literal(1)}/math.sqrt({self._print(base)}))"
        return f"({b}**{self._print(exp)})"

    def _print_Piecewise(self, expr):
        # Nested ternaries: only the taken branch is evaluated.
        *pieces, (last_value, last_cond) = expr.args
        text = f"({self._print(last_value)})"
        if last_cond != sp.true:
            text = f"({self._print(last_value)} if {self._print(last_cond)} else " \
                   f"{self.literal(float('nan'))})"
        for value, cond in reversed(pieces):
            text = f"({self._print(value)} if {self._print(cond)} else {text})"
        return text

    def _print_Relational(self, expr):
        op = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[expr.rel_op]
        return f"({self._print(expr.lhs)} {op} {self._print(expr.rhs)})"

    def _print_And(self, expr):
        return "(" + " and ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr):
        return "(" + " or ".join(self._print(a) for a in expr.args) + ")"

    def _print_Not(self, expr):
        return f"(not {self._print(expr.args[0])})"

    def _print_sign(self, expr):
        x = self._print(expr.args[0])
        return (f"({self.literal(1)} if {x} > 0 else ({self.literal(-1)} if {x} < 0 else "
                f"{self.literal(0)}))")

    def _print_Max(self, expr):
        return self._fold("max", expr.args)

    def _print_Min(self, expr):
        return self._fold("min", expr.args)

    def _fold(self, name, args):
        if len(args) == 2 and all(arg.is_Atom for arg in args):
            # Python's own semantics (the first operand unless the second is strictly
            # greater/smaller), as a conditional Numba compiles without its max/min
            # overloads (a cold start compiles each once). Compound operands keep the call:
            # a conditional would print, and evaluate, them twice.
            first, second = (self._print(arg) for arg in args)
            relation = ">" if name == "max" else "<"
            return f"({second} if {second} {relation} {first} else {first})"
        text = self._print(args[0])
        for arg in args[1:]:
            text = f"{name}({text}, {self._print(arg)})"
        return text

    def _print_Function(self, expr):
        name = expr.func.__name__
        if name in MATH_FUNCTIONS:
            return f"{MATH_FUNCTIONS[name]}({', '.join(self._print(a) for a in expr.args)})"
        if name in ("sigmoid", "softplus"):
            return f"_{name}({self._print(expr.args[0])})"
        if name == "log1p":
            return f"math.log1p({self._print(expr.args[0])})"
        raise NotImplementedError(f"no Numba form for the function {name}")

    _print_exp = _print_Function
    _print_log = _print_Function
    _print_tanh = _print_Function
    _print_erf = _print_Function
    _print_sqrt = _print_Function

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"


def print_assignments(assignments, printer: NumbaPrinter, temp_prefix: str = "t"):
    """CSE over ``[(target_name, expr), ...]``: lines ``name = code`` sharing subexpressions.

    Piecewise expressions are shielded from CSE: hoisting a branch's subexpression out of its
    ternary would evaluate it for every input (``1/(1 + z)`` at ``z = -1`` in softsign).
    """
    names = [name for name, _ in assignments]
    shields: dict[sp.Symbol, sp.Piecewise] = {}

    def shield(piece: sp.Piecewise) -> sp.Symbol:
        symbol = sp.Symbol(f"_pw{len(shields)}")
        shields[symbol] = piece
        return symbol

    exprs = [expr.replace(lambda e: isinstance(e, sp.Piecewise), shield)
             if isinstance(expr, sp.Basic) else expr for _, expr in assignments]
    temps = sp.numbered_symbols(temp_prefix, real=True)
    replacements, reduced = sp.cse(exprs, symbols=temps, optimizations="basic")

    def code(value) -> str:
        return printer.doprint(value.xreplace(shields) if isinstance(value, sp.Basic) else value)

    lines = [(str(sym), code(value)) for sym, value in replacements]
    lines += [(name, code(value)) for name, value in zip(names, reduced, strict=True)]
    return lines
