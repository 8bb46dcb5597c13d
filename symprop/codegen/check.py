"""The structural check of generated source: defence in depth behind the printer.

Nothing a user types reaches a generated module as text (formulas arrive as SymPy
expressions, names as validated identifiers). Should a bug ever let text through, this
check stands between the rendered source and Python: every module is parsed and its tree
compared with the shapes symprop's templates produce before it is written, imported or
exported. A module that fails is never written or imported.

What a generated module may hold:
- at module level: its docstring; imports of numpy, numba, math, symprop's code generator
  (and CuPy for the GPU module); constant assignments (literals, tuples, names and their
  attributes, conditional expressions over them); ``try``/``if`` blocks of those (the GPU
  module's optional CuPy and its NumPy shim, whose test may call ``hasattr``); function
  definitions whose decorators are ``njit``/``cuda.jit`` with constant arguments. No other
  module-level call: importing a module runs nothing but imports and decorators.
- anywhere: no name or attribute that starts with two underscores; no builtin that reaches
  the interpreter (eval, exec, open, getattr, __import__, ...); no private attribute; no
  classes, f-strings, ``global`` or ``with``; imports inside functions only of
  the modules above; no function with a repeated argument name.
"""

from __future__ import annotations

import ast
import builtins

from symprop.errors import UnsafeSourceError

# Modules a generated module may import (CuPy: the GPU module's cuBLAS products), and of
# symprop only the code generator's support modules (the CBLAS binding).
ALLOWED_MODULES = ("math", "numpy", "numba", "cupy", "symprop.codegen")
JIT_DECORATORS = ("njit", "cuda.jit")
# Builtins the templates call or name; every other builtin is refused wherever it appears.
SAFE_BUILTINS = frozenset({
    "abs", "bool", "float", "hasattr", "id", "int", "isinstance", "len", "max", "min",
    "range", "round", "tuple", "zip", "ImportError", "RuntimeError", "ValueError",
})
UNSAFE_BUILTINS = frozenset(dir(builtins)) - SAFE_BUILTINS - {"True", "False", "None"}
# Node types the templates never produce and that could hide behaviour.
FORBIDDEN_NODES = (
    ast.ClassDef, ast.AsyncFunctionDef, ast.Await, ast.Yield, ast.YieldFrom,
    ast.Global, ast.Nonlocal, ast.With, ast.AsyncWith, ast.JoinedStr, ast.Delete,
)
# What a module-level value may be built of: no calls (but MODULE_LEVEL_CALLS), no
# comprehensions, no lambdas.
CONSTANT_NODES = (
    ast.Constant, ast.Name, ast.Attribute, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.BinOp,
    ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.expr_context, ast.operator,
    ast.unaryop, ast.boolop, ast.cmpop,
)
# Module-level calls allowed in the test of an ``if`` (pure, no side effect).
MODULE_LEVEL_CALLS = ("hasattr",)


def check_module(source: str, origin: str = "generated module") -> ast.Module:
    """Parse ``source`` and check it holds only what symprop generates; return its tree.
    Raises UnsafeSourceError naming ``origin`` and the offending line otherwise."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise UnsafeSourceError(f"{origin} is not valid Python: {exc}") from None
    checker = _Checker(origin)
    body = tree.body
    if body and _is_docstring(body[0]):
        body = body[1:]
    for statement in body:
        checker.module_statement(statement)
    for node in ast.walk(tree):
        checker.anywhere(node)
    return tree


def _is_docstring(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _module_allowed(name: str | None) -> bool:
    return name is not None and any(name == allowed or name.startswith(allowed + ".")
                                    for allowed in ALLOWED_MODULES)


class _Checker:
    def __init__(self, origin: str):
        self.origin = origin

    def refuse(self, node: ast.AST, what: str) -> UnsafeSourceError:
        line = getattr(node, "lineno", "?")
        return UnsafeSourceError(f"{self.origin}, line {line}: {what}; symprop never "
                                 "generates that, so the module is not used")

    # -- module level ------------------------------------------------------------------
    def module_statement(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self.import_(node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self.assign_target(target)
            self.constant(node.value)
        elif isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                self.decorator(decorator)
            for default in node.args.defaults + [d for d in node.args.kw_defaults if d]:
                self.constant(default)
        elif isinstance(node, ast.If):
            self.constant(node.test, calls=MODULE_LEVEL_CALLS)
            for statement in node.body + node.orelse:
                self.module_statement(statement)
        elif isinstance(node, ast.Try):
            for handler in node.handlers:
                if handler.type is not None:
                    self.constant(handler.type)
            for statement in (node.body + node.orelse + node.finalbody
                              + [s for h in node.handlers for s in h.body]):
                self.module_statement(statement)
        elif isinstance(node, ast.Pass):
            pass
        else:
            raise self.refuse(node, f"a module-level {type(node).__name__} statement")

    def import_(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.ImportFrom):
            names = [node.module] if node.level == 0 else [None]
            if any(alias.name == "*" for alias in node.names):
                raise self.refuse(node, "a star import")
        else:
            names = [alias.name for alias in node.names]
        for name in names:
            if not _module_allowed(name):
                raise self.refuse(node, f"an import of {name or 'a relative module'}")

    def assign_target(self, target: ast.expr) -> None:
        if isinstance(target, ast.Tuple):
            for element in target.elts:
                self.assign_target(element)
        elif isinstance(target, ast.Name):
            pass
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            pass  # the GPU module's np.row_stack shim; dunder attributes fail anywhere()
        else:
            raise self.refuse(target, "an assignment to something other than a name")

    def constant(self, node: ast.expr, calls: tuple[str, ...] = ()) -> None:
        """A value computed without calling anything (but ``calls``): literals, names,
        attributes, containers, arithmetic, comparisons and conditional expressions."""
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call):
                if _dotted(inner.func) not in calls:
                    raise self.refuse(inner, "a call at module level")
            elif not isinstance(inner, CONSTANT_NODES):
                raise self.refuse(inner, f"a {type(inner).__name__} in a module-level value")

    def decorator(self, node: ast.expr) -> None:
        call = node if isinstance(node, ast.Call) else None
        name = _dotted(call.func if call else node)
        if name not in JIT_DECORATORS:
            raise self.refuse(node, f"the decorator {ast.unparse(node)[:60]!r}")
        if call:
            for argument in call.args + [keyword.value for keyword in call.keywords]:
                self.constant(argument)
            if any(keyword.arg is None for keyword in call.keywords):
                raise self.refuse(node, "keyword unpacking in a decorator")

    # -- the whole tree ----------------------------------------------------------------
    def anywhere(self, node: ast.AST) -> None:
        if isinstance(node, FORBIDDEN_NODES):
            raise self.refuse(node, f"a {type(node).__name__}")
        if isinstance(node, ast.Name):
            if node.id.startswith("__"):
                raise self.refuse(node, f"the name {node.id!r}")
            if node.id in UNSAFE_BUILTINS:
                raise self.refuse(node, f"the builtin {node.id!r}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            # Generated code reads no private attribute of anything (numpy, numba, arrays).
            raise self.refuse(node, f"the attribute {node.attr!r}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.import_(node)
        elif isinstance(node, (ast.FunctionDef, ast.arguments)):
            self.function(node)
        elif isinstance(node, ast.alias) and (node.asname or node.name).startswith("__"):
            raise self.refuse(node, f"the name {node.asname or node.name!r}")
        elif isinstance(node, ast.keyword) and node.arg is not None and node.arg.startswith("__"):
            raise self.refuse(node, f"the keyword {node.arg!r}")

    def function(self, node: ast.FunctionDef | ast.arguments) -> None:
        if isinstance(node, ast.FunctionDef):
            if node.name.startswith("__"):
                raise self.refuse(node, f"the function name {node.name!r}")
            return
        names = [a.arg for a in node.posonlyargs + node.args + node.kwonlyargs]
        names += [a.arg for a in (node.vararg, node.kwarg) if a is not None]
        for name in names:
            if name.startswith("__") or name in UNSAFE_BUILTINS:
                raise self.refuse(node, f"the argument name {name!r}")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise self.refuse(node, f"the argument {repeated[0]!r} named twice")
