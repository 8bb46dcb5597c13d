"""The only ways text gets into generated source: identifiers symprop checks or makes, and
formulas printed from parsed SymPy expressions.

A user's formula text, layer name or loss name never reaches a template. Labels in headers
and docstrings are names that passed :func:`symprop.catalog.check_name` (plain ASCII
identifiers) or kernel identifiers symprop makes from a digest of the expression; formulas
are SymPy's printing of the parsed expression, whose characters are checked here too, so a
quote, a backslash or a newline can never close a docstring or start a statement.
"""

from __future__ import annotations

import keyword
import re

import sympy as sp

from symprop.errors import UnsafeSourceError

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# What SymPy's str printer can produce from a parsed formula: identifiers, numbers,
# operators, brackets, commas, comparisons and spaces. No quote, backslash, '#' or newline.
FORMULA_TEXT = re.compile(r"[A-Za-z0-9_ +\-*/().,<>=!&|~\[\]]*\Z")
MAX_FORMULA_TEXT = 400


def checked_identifier(name: str) -> str:
    """``name`` if it is a plain ASCII Python identifier (not a keyword, not a dunder name);
    generated code takes no other name."""
    if (not isinstance(name, str) or not IDENTIFIER.match(name) or keyword.iskeyword(name)
            or name.startswith("__")):
        raise UnsafeSourceError(f"{name!r} is not an identifier symprop generates code with")
    return name


def formula_text(expr: sp.Basic) -> str:
    """A one-line, plain-ASCII printing of a parsed expression for headers and docstrings
    (long ones shortened); refuses anything that could leave a docstring."""
    text = sp.sstr(expr)
    if not FORMULA_TEXT.match(text):
        raise UnsafeSourceError(f"the printed formula {text[:80]!r} has characters that "
                                "generated source does not take")
    return text if len(text) <= MAX_FORMULA_TEXT else text[: MAX_FORMULA_TEXT - 3] + "..."


def label_for(name: str | None, formula: str | None, ident: str) -> str:
    """The label a layer's activation (or a loss) carries in generated headers: its
    built-in or validated user name; for an unnamed formula, its kernel identifier."""
    if formula is not None and (name is None or name == formula):
        return checked_identifier(ident)
    return checked_identifier(name)
