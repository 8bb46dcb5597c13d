"""Parse user formulas into SymPy without ever evaluating them as Python.

The formula text goes through Python's own *parser* (``ast.parse``), never through ``eval``
or ``sympify`` (which calls ``eval``). Each node of the tree is checked against a whitelist
and converted by hand to a SymPy object, so attribute access, dunder names, lambdas,
subscripts, strings, imports and calls of unknown functions are refused before anything is
evaluated. ``^`` means power, as in the notes.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Iterable

import sympy as sp

from symprop.derive.limits import (
    MAX_NESTING,
    MAX_RESULT_DIGITS,
    SYMPY_FAILURES,
    number_problem,
)
from symprop.errors import FormulaError, SympropError

MAX_FORMULA_LENGTH = 2000
MAX_NUMERIC_EXPONENT = 1000
MAX_INTEGER_DIGITS = 60
# Hyperparameters become kernel arguments: plain ASCII names only, so no two of them can
# turn into one argument name (p-middle-dot-q, a Python identifier, and p_q both became
# hp_p_q: a SyntaxError in the generated module) and none needs escaping.
PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


def _is_condition(value) -> bool:
    # Not sp.Boolean: a plain Symbol is a Boolean too in SymPy.
    return isinstance(
        value, sp.core.relational.Relational | sp.logic.boolalg.BooleanFunction
        | sp.logic.boolalg.BooleanAtom
    )


def _piecewise_step(x):
    # Heaviside with H(0) = 0, the convention the notes use for relu'(0) = 0.
    return sp.Piecewise((1, x > 0), (0, True))


def _where(cond, if_true, if_false):
    if not _is_condition(cond):
        raise FormulaError("where(cond, a, b): the first argument must be a comparison")
    return sp.Piecewise((if_true, cond), (if_false, True))


def _log(x, base=None):
    return sp.log(x) if base is None else sp.log(x, base)


# name -> (callable building the SymPy object, allowed argument counts)
FUNCTIONS: dict[str, tuple[Callable, tuple[int, ...]]] = {
    "exp": (sp.exp, (1,)),
    "log": (_log, (1, 2)),
    "ln": (sp.log, (1,)),
    "log1p": (lambda x: sp.log(1 + x), (1,)),
    "expm1": (lambda x: sp.exp(x) - 1, (1,)),
    "sqrt": (sp.sqrt, (1,)),
    "abs": (sp.Abs, (1,)),
    "Abs": (sp.Abs, (1,)),
    "sign": (sp.sign, (1,)),
    "sin": (sp.sin, (1,)),
    "cos": (sp.cos, (1,)),
    "tan": (sp.tan, (1,)),
    "sinh": (sp.sinh, (1,)),
    "cosh": (sp.cosh, (1,)),
    "tanh": (sp.tanh, (1,)),
    "asinh": (sp.asinh, (1,)),
    "atan": (sp.atan, (1,)),
    "arctan": (sp.atan, (1,)),
    "erf": (sp.erf, (1,)),
    "erfc": (sp.erfc, (1,)),
    "max": (sp.Max, (2, 3, 4)),
    "Max": (sp.Max, (2, 3, 4)),
    "min": (sp.Min, (2, 3, 4)),
    "Min": (sp.Min, (2, 3, 4)),
    "heaviside": (_piecewise_step, (1,)),
    "Heaviside": (_piecewise_step, (1,)),
    "step": (_piecewise_step, (1,)),
    "where": (_where, (3,)),
    "sigmoid": (lambda x: 1 / (1 + sp.exp(-x)), (1,)),
    "softplus": (lambda x: sp.log(1 + sp.exp(x)), (1,)),
}
CONSTANTS = {"pi": sp.pi, "E": sp.E, "e": sp.E}

_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}
_COMPARE = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge}


class _Converter:
    """Walks a checked ``ast`` tree and builds the SymPy expression node by node."""

    def __init__(self, text: str, symbol_for: Callable[[str], sp.Symbol]):
        self.text = _shorten(text)
        self.symbol_for = symbol_for
        self.checked: set[sp.Basic] = set()  # subexpressions within the limits

    def check(self, node: ast.AST, result):
        """Refuse a result beyond the limits on numbers and exponents. Only the parts SymPy
        built at this step are new (the operands were checked), so this stays linear."""
        new, stack = [], [result]
        while stack:
            part = stack.pop()
            if isinstance(part, sp.Basic) and part not in self.checked:
                self.checked.add(part)
                new.append(part)
                stack.extend(part.args)
        for part in reversed(new):  # arguments first
            problem = number_problem(part)
            if problem:
                raise self.refuse(node, problem)
        return result

    def refuse(self, node: ast.AST, what: str) -> FormulaError:
        col = getattr(node, "col_offset", None)
        where = f" at column {col + 1}" if col is not None else ""
        return FormulaError(f"formula {self.text!r}: {what}{where} is not allowed")

    def convert(self, node: ast.AST):
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise self.refuse(node, _describe(node))
        return self.check(node, method(node))

    def visit_Expression(self, node: ast.Expression):
        return self.convert(node.body)

    def visit_Constant(self, node: ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.refuse(node, f"the literal {value!r}")
        if isinstance(value, int):
            if len(str(abs(value))) > MAX_INTEGER_DIGITS:
                raise self.refuse(node, "an integer literal this long")
            return sp.Integer(value)
        if not math.isfinite(value):
            raise self.refuse(node, f"the literal {value!r} (not a finite number)")
        # Keep decimal literals exact (0.1 stays 1/10) so derivations print cleanly.
        return sp.Rational(repr(value))

    def visit_Name(self, node: ast.Name):
        name = node.id
        if name.startswith("_"):
            raise self.refuse(node, f"the name {name!r} (names may not start with '_')")
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise self.refuse(node, f"the function {name!r} used without arguments")
        return self.symbol_for(name)

    def visit_UnaryOp(self, node: ast.UnaryOp):
        operand = self.convert(node.operand)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not) and _is_condition(operand):
            return sp.Not(operand)
        raise self.refuse(node, f"the operator {type(node.op).__name__}")

    def visit_BinOp(self, node: ast.BinOp):
        # A chain a + b - c + ... nests to the left in the tree; fold it in a loop, so a long
        # sum is not a deep recursion.
        chain = [node]
        while isinstance(chain[-1].left, ast.BinOp) and _same_chain(chain[-1].left, node):
            chain.append(chain[-1].left)
        result = self.convert(chain[-1].left)
        for link in reversed(chain):
            result = self.check(link, self.combine(link, result, self.convert(link.right)))
        return result

    def combine(self, node: ast.BinOp, left, right):
        for side in (left, right):
            if _is_condition(side):
                raise self.refuse(node, "arithmetic on a comparison")
        if isinstance(node.op, ast.Pow | ast.BitXor):
            if right.is_number and left.is_number and _too_large(left, right):
                raise self.refuse(node, "a numeric power this large")
            if right.is_Rational and not left.is_number:
                # Checked before SymPy builds it: (c*x)**n would first compute c**n.
                problem = number_problem(sp.Pow(left, right, evaluate=False))
                if problem:
                    raise self.refuse(node, problem)
            return left**right
        if type(node.op) in _BINARY:
            return _BINARY[type(node.op)](left, right)
        raise self.refuse(node, f"the operator {type(node.op).__name__}")

    def visit_Compare(self, node: ast.Compare):
        terms = [self.convert(node.left)] + [self.convert(c) for c in node.comparators]
        parts = []
        for op, lhs, rhs in zip(node.ops, terms, terms[1:], strict=False):
            if type(op) not in _COMPARE:
                raise self.refuse(node, f"the comparison {type(op).__name__}")
            parts.append(_COMPARE[type(op)](lhs, rhs))
        return sp.And(*parts) if len(parts) > 1 else parts[0]

    def visit_BoolOp(self, node: ast.BoolOp):
        values = [self.convert(v) for v in node.values]
        if not all(_is_condition(v) for v in values):
            raise self.refuse(node, "'and'/'or' between non-comparisons")
        return sp.And(*values) if isinstance(node.op, ast.And) else sp.Or(*values)

    def visit_Call(self, node: ast.Call):
        if not isinstance(node.func, ast.Name):
            raise self.refuse(node, "a call of something that is not a plain function name")
        name = node.func.id
        if name not in FUNCTIONS:
            raise self.refuse(node, f"a call of the unknown function {name!r}")
        if node.keywords:
            raise self.refuse(node, f"keyword arguments to {name!r}")
        build, arities = FUNCTIONS[name]
        if len(node.args) not in arities:
            raise self.refuse(node, f"{name}() with {len(node.args)} arguments")
        return build(*(self.convert(arg) for arg in node.args))


def _same_chain(inner: ast.BinOp, outer: ast.BinOp) -> bool:
    """Are both links of one left-nested chain of + and - (or of * and /)?"""
    families = ((ast.Add, ast.Sub), (ast.Mult, ast.Div))
    return any(isinstance(inner.op, f) and isinstance(outer.op, f) for f in families)


def nesting(tree: ast.AST) -> int:
    """How deeply the formula nests calls and operations; a chain a + b + c counts once."""
    deepest, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.expr):
                continue
            flat = (isinstance(node, ast.BinOp) and child is node.left
                    and isinstance(child, ast.BinOp) and _same_chain(child, node))
            stack.append((child, depth if flat else depth + 1))
    return deepest


def _too_large(base: sp.Expr, exponent: sp.Expr) -> bool:
    """Would ``base**exponent`` have more than MAX_RESULT_DIGITS digits (or a huge exponent)?
    Checked before SymPy evaluates it, so nested powers cannot hang the parser."""
    try:
        e, b = abs(complex(exponent)), abs(complex(base))
    except (TypeError, ValueError, OverflowError):
        return True
    if not math.isfinite(e) or not math.isfinite(b) or e > MAX_NUMERIC_EXPONENT:
        return True
    return b > 0 and e * abs(math.log10(b)) > MAX_RESULT_DIGITS


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(node: ast.AST) -> str:
    kinds = {
        "Attribute": "attribute access",
        "Lambda": "a lambda",
        "Subscript": "subscripting",
        "Starred": "star-unpacking",
        "JoinedStr": "an f-string",
        "ListComp": "a comprehension",
        "GeneratorExp": "a generator",
        "NamedExpr": "an assignment expression",
        "IfExp": "an inline if (use where(cond, a, b))",
    }
    return kinds.get(type(node).__name__, f"the construct {type(node).__name__}")


# Printable ASCII but '#' (a comment), quotes and the backslash; spaces and tabs.
FORMULA_CHARACTERS = frozenset(chr(code) for code in range(32, 127)) - set("#'\"\\`") | {"\t"}


def parse_formula(
    text: str,
    symbol_for: Callable[[str], sp.Symbol] | None = None,
) -> sp.Expr:
    """Parse ``text`` into a SymPy expression.

    ``symbol_for(name)`` maps every free name to a SymPy symbol (and may refuse a name by
    raising :class:`FormulaError`); by default every name becomes a real symbol.
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be a string, not {type(text).__name__}")
    if not text.strip():
        raise FormulaError("the formula is empty")
    if len(text) > MAX_FORMULA_LENGTH:
        raise FormulaError(f"the formula is longer than {MAX_FORMULA_LENGTH} characters")
    odd = next((char for char in text if char not in FORMULA_CHARACTERS), None)
    if odd is not None:
        # Python's parser would drop a comment and accept strings and escapes: none of them
        # is part of a formula, and refusing them keeps a formula's text plain.
        raise FormulaError(f"formula {_shorten(text)!r}: the character {odd!r} is not allowed "
                           "(a formula is ASCII letters, digits, operators and brackets: no "
                           "comments, quotes, backslashes or line breaks)")
    try:
        # '^' means power in the notes; Python's '^' binds looser than '+', so swap the token.
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(
            f"formula {_shorten(text)!r} is not a valid expression: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise FormulaError(f"formula {_shorten(text)!r} is nested too deeply") from None
    depth = nesting(tree)
    if depth > MAX_NESTING:
        raise FormulaError(f"formula {_shorten(text)!r} is nested {depth} levels deep, more "
                           f"than the limit of {MAX_NESTING}")
    symbol_for = symbol_for or (lambda name: sp.Symbol(name, real=True))
    try:
        result = _Converter(text, symbol_for).convert(tree)
    except RecursionError:
        raise FormulaError(f"formula {_shorten(text)!r} is nested too deeply") from None
    except SympropError:
        raise
    except SYMPY_FAILURES as exc:  # SymPy evaluating while it builds: erfc(1e300) overflows
        raise FormulaError(f"formula {_shorten(text)!r}: SymPy cannot build it "
                           f"({type(exc).__name__}: {_shorten(str(exc))})") from exc
    if _is_condition(result):
        raise FormulaError(f"formula {_shorten(text)!r} is a condition, not a value")
    if result.has(sp.zoo, sp.nan) or result.has(sp.oo, -sp.oo):
        raise FormulaError(f"formula {_shorten(text)!r} is undefined or infinite everywhere")
    return result


def plain_symbol(name: str, label: str) -> sp.Symbol:
    """The real symbol of a hyperparameter, refused unless its name is a plain ASCII
    identifier (a letter, then letters, digits, underscores; 32 at most)."""
    if not PLAIN_NAME.fullmatch(name):
        raise FormulaError(f"{label}: {name!r} cannot name a hyperparameter (use a plain ASCII "
                           "name: a letter, then letters, digits or '_', 32 at most)")
    return sp.Symbol(name, real=True)


def check_names(names: Iterable[str]) -> None:
    for name in names:
        if not str(name).isidentifier() or str(name).startswith("_"):
            raise FormulaError(f"{name!r} is not a valid symbol name")
