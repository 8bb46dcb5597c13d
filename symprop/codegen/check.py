"""The structural check of generated source: defence in depth behind the printer.

Nothing a user types reaches a generated module as text (formulas arrive as SymPy
expressions, names as validated identifiers). Should a bug, or someone able to write the
cache folder, put anything else in a module, this check stands between the text and
Python: every module is parsed and its tree compared with the shapes symprop's templates
produce before it is written, imported or exported. A module that fails is never written
or imported. The rules are allow-lists, taken from what the templates generate:

- imports: exactly the (module, name) pairs of :data:`IMPORTS`, and names from the shared
  kernel modules (``symprop_kernel_`` and 24 hex digits, symprop.codegen.kernel_library:
  the loader takes those only from the cache folder, checked); nothing else, no aliases
  but ``numpy as np``, no private names;
- an imported name is never bound again (``njit`` is numba's njit wherever it appears), and
  nothing is assigned to an attribute but the GPU module's ``np.row_stack`` shim;
- attribute chains on a module are in :data:`MODULE_ATTRIBUTES` (any public name of
  ``math``); attributes of anything else are the few array methods the templates use;
- builtins in :data:`SAFE_BUILTINS` only; no names or attributes starting with ``__``;
- at module level: the docstring, imports, constant assignments (no calls but ``hasattr``
  in the test of an ``if``), ``try``/``except ImportError`` around an import, functions
  whose decorators are ``njit``/``cuda.jit`` with constant arguments;
- no classes, ``global``, ``with``, f-strings, ``del``, bare ``except``, and no function
  with a repeated argument name.
"""

from __future__ import annotations

import ast
import builtins

from symprop.codegen.kernel_library import LIBRARY_NAME
from symprop.errors import UnsafeSourceError

# What a generated module may import: (module, name) for `from module import name`, and
# (module, None) for `import module`; the bound name is the imported one (numpy: np).
IMPORTS = {
    ("math", None), ("numpy", None), ("cupy", None),
    ("numba", "njit"), ("numba", "prange"), ("numba", "cuda"), ("numba", "config"),
    ("numba", "float32"), ("numba", "float64"),
    ("numba.cuda.random", "create_xoroshiro128p_states"),
    ("numba.cuda.random", "xoroshiro128p_uniform_float64"),
    ("symprop.codegen.blas", "gemm_float32"), ("symprop.codegen.blas", "gemm_float64"),
    ("symprop.codegen.blas", "gemm_add_float32"), ("symprop.codegen.blas", "gemm_add_float64"),
    ("symprop.codegen.blas", "gemm_step_float32"),
    ("symprop.codegen.blas", "gemm_step_float64"),
    ("symprop.codegen.blas", "transpose_float32"),
    ("symprop.codegen.blas", "transpose_float64"),
    ("symprop.codegen.prefetch", "prefetch"),
    ("symprop.codegen.split_support", "SYNC_SLOTS"),
    ("symprop.codegen.split_support", "join_threads"),
    ("symprop.codegen.split_support", "meet"),
    ("symprop.codegen.split_support", "numba_thread_count"),
    ("symprop.codegen.split_support", "rows_apart"),
    ("symprop.codegen.split_support", "rows_view"),
    ("symprop.codegen.split_support", "run_threads"),
}
ALIASES = {"numpy": "np"}  # the only `import x as y`
MODULES = {"math", "np", "cupy", "cuda", "config"}  # bound names that are modules
# Names a kernel library's import may never bind: what the allowed imports and the builtins
# bind (a library's `njit` would stand in for numba's).
RESERVED_NAMES = ({name or module for module, name in IMPORTS} | MODULES
                  | set(dir(builtins)))
MODULE_ATTRIBUTES = {
    "config.ENABLE_CUDASIM", "cuda.atomic.add", "cuda.blockIdx.x", "cuda.blockIdx.y",
    "cuda.device_array", "cuda.device_array_like", "cuda.grid", "cuda.gridsize", "cuda.jit",
    "cuda.shared.array", "cuda.syncthreads", "cuda.threadIdx.x", "cuda.threadIdx.y",
    "cuda.to_device", "cupy.asarray", "cupy.matmul", "np.arange", "np.ascontiguousarray",
    "np.dot", "np.empty", "np.empty_like", "np.float32", "np.float64", "np.floor", "np.inf",
    "np.int32", "np.int64", "np.nan", "np.ndarray", "np.ones", "np.random.random",
    "np.random.seed", "np.row_stack", "np.uint64", "np.vstack", "np.zeros", "np.zeros_like",
}
# view: a float32's exponent bits as an integer and back (the float32 helpers' e^x);
# overloads: whether run() has been compiled (evaluate() of a module with the split path)
LOCAL_ATTRIBUTES = {"T", "copy_to_device", "copy_to_host", "dtype", "get", "overloads",
                    "reshape", "shape", "size", "view"}
ATTRIBUTE_TARGETS = {"np.row_stack"}  # the GPU module's shim for NumPy 2.5
JIT_DECORATORS = ("njit", "cuda.jit")
SAFE_BUILTINS = frozenset({
    "abs", "bool", "float", "hasattr", "id", "int", "isinstance", "len", "max", "min",
    "range", "round", "tuple", "zip", "ImportError", "RuntimeError", "ValueError",
})
UNSAFE_BUILTINS = frozenset(dir(builtins)) - SAFE_BUILTINS - {"True", "False", "None"}
FORBIDDEN_NODES = (
    ast.ClassDef, ast.AsyncFunctionDef, ast.Await, ast.Yield, ast.YieldFrom, ast.Global,
    ast.Nonlocal, ast.With, ast.AsyncWith, ast.JoinedStr, ast.Delete,
)
# What a module-level value may be built of: no calls (but MODULE_LEVEL_CALLS in an if).
CONSTANT_NODES = (
    ast.Constant, ast.Name, ast.Attribute, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.BinOp,
    ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.expr_context, ast.operator,
    ast.unaryop, ast.boolop, ast.cmpop,
)
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
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    bound = [alias.asname or alias.name for node in imports for alias in node.names]
    twice = sorted({name for name in bound if bound.count(name) > 1})
    if twice:
        raise checker.refuse(next(node for node in reversed(imports) if any(
            (alias.asname or alias.name) == twice[0] for alias in node.names)),
            f"a second import of {twice[0]!r}")
    try:
        for node in imports:  # every import first: a name bound before its import
            checker.visit(node)  # counts as a rebinding too
        checker.visit(tree)
    except RecursionError:
        raise UnsafeSourceError(f"{origin} is nested too deeply to check") from None
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


def _bound_names(target: ast.expr) -> list[ast.Name]:
    return [node for node in ast.walk(target) if isinstance(node, ast.Name)]


class _Checker(ast.NodeVisitor):
    def __init__(self, origin: str):
        self.origin = origin
        self.imported: set[str] = set()

    def refuse(self, node: ast.AST, what: str) -> UnsafeSourceError:
        line = getattr(node, "lineno", "?")
        return UnsafeSourceError(f"{self.origin}, line {line}: {what}; symprop never "
                                 "generates that, so the module is not used")

    # -- module level ------------------------------------------------------------------
    def module_statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            pass  # visit() checks every import, wherever it is
        elif isinstance(node, ast.Assign):
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
            for statement in (node.body + node.orelse + node.finalbody
                              + [s for h in node.handlers for s in h.body]):
                self.module_statement(statement)
        elif not isinstance(node, ast.Pass):
            raise self.refuse(node, f"a module-level {type(node).__name__} statement")

    def constant(self, node: ast.expr, calls: tuple[str, ...] = ()) -> None:
        """A value computed without calling anything (but ``calls``)."""
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call):
                if _dotted(inner.func) not in calls:
                    raise self.refuse(inner, "a call at module level")
            elif not isinstance(inner, CONSTANT_NODES):
                raise self.refuse(inner, f"a {type(inner).__name__} in a module-level value")

    def decorator(self, node: ast.expr) -> None:
        call = node if isinstance(node, ast.Call) else None
        if _dotted(call.func if call else node) not in JIT_DECORATORS:
            raise self.refuse(node, f"the decorator {ast.unparse(node)[:60]!r}")
        if call:
            if any(keyword.arg is None for keyword in call.keywords):
                raise self.refuse(node, "keyword unpacking in a decorator")
            for argument in call.args + [keyword.value for keyword in call.keywords]:
                self.constant(argument)

    # -- the whole tree ----------------------------------------------------------------
    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, FORBIDDEN_NODES):
            raise self.refuse(node, f"a {type(node).__name__}")
        super().generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if (alias.name, None) not in IMPORTS or alias.asname != ALIASES.get(alias.name):
                raise self.refuse(node, f"the import of {alias.name}"
                                        f"{' as ' + alias.asname if alias.asname else ''}")
            self.imported.add(alias.asname or alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        library = bool(node.module and LIBRARY_NAME.match(node.module))  # a shared kernel
        for alias in node.names:
            allowed = (node.module, alias.name) in IMPORTS or (
                library and alias.name.isidentifier() and not alias.name.startswith("__")
                and alias.name not in RESERVED_NAMES)
            if node.level or not allowed or alias.asname:
                raise self.refuse(node, f"the import of {alias.name} from "
                                        f"{node.module or 'a relative module'}")
            self.imported.add(alias.name)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if not (isinstance(node.type, ast.Name) and node.type.id == "ImportError"):
            raise self.refuse(node, "an except clause for anything but ImportError")
        if node.name:
            raise self.refuse(node, "a named exception")
        # `cupy = None` where the optional import failed: the one rebinding of an import
        for statement in node.body:
            if not (isinstance(statement, ast.Assign)
                    and ast.unparse(statement) == "cupy = None"):
                self.visit(statement)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("__"):
            raise self.refuse(node, f"the name {node.id!r}")
        if node.id in UNSAFE_BUILTINS:
            raise self.refuse(node, f"the builtin {node.id!r}")
        if not isinstance(node.ctx, ast.Load) and node.id in self.imported | MODULES:
            raise self.refuse(node, f"{node.id!r} bound again")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        path = _dotted(node)
        root = path.split(".")[0] if path else None
        if root in MODULES:
            allowed = path in MODULE_ATTRIBUTES or (
                root == "math" and path.count(".") == 1 and not node.attr.startswith("_"))
            if not allowed:
                raise self.refuse(node, f"the attribute {path}")
            if not isinstance(node.ctx, ast.Load) and path not in ATTRIBUTE_TARGETS:
                raise self.refuse(node, f"an assignment to {path}")
            return  # the chain is checked whole
        if node.attr not in LOCAL_ATTRIBUTES:
            raise self.refuse(node, f"the attribute {node.attr!r}")
        if not isinstance(node.ctx, ast.Load):
            raise self.refuse(node, f"an assignment to the attribute {node.attr!r}")
        self.visit(node.value)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name.startswith("__") or node.name in self.imported | MODULES:
            raise self.refuse(node, f"the function name {node.name!r}")
        self.generic_visit(node)

    def visit_arguments(self, node: ast.arguments) -> None:
        names = [a.arg for a in node.posonlyargs + node.args + node.kwonlyargs]
        names += [a.arg for a in (node.vararg, node.kwarg) if a is not None]
        for name in names:
            if name.startswith("__") or name in UNSAFE_BUILTINS or name in (
                    self.imported | MODULES):
                raise self.refuse(node, f"the argument name {name!r}")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise self.refuse(node, f"the argument {repeated[0]!r} named twice")
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg is not None and node.arg.startswith("__"):
            raise self.refuse(node, f"the keyword {node.arg!r}")
        self.generic_visit(node)
