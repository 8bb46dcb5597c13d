"""Linear Unicode for the small LaTeX of notation names: ``\\frac{\\partial L}{\\partial
W^{(2)}}`` reads ``∂L/∂W⁽²⁾`` in a terminal, ``\\hat{y}_{k}`` reads ``ŷₖ``.

Notation symbols are declared with their LaTeX (:func:`symprop.derive.notation.notation`);
their text form is derived from it here, so the two never disagree. Scripts become Unicode
sub- and superscripts where every character has one (``W⁽ˡ⁾``, ``δᵢₖ``), else ``_`` and
``^`` with the script in parentheses when it is longer than one character.
"""

from __future__ import annotations

import re
from unicodedata import normalize

SUBSCRIPT = dict(zip("0123456789+-=()aehijklmnoprstuvx",
                     "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True))
SUPERSCRIPT = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
                       "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ",
                       strict=True))
SUBSCRIPT["−"], SUPERSCRIPT["−"] = "₋", "⁻"  # the minus sign the text printers write
SUPERSCRIPT["×"] = "ˣ"  # the shapes of matrices: ℝ³ˣ²
BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "1": "𝟙"}

GREEK_LETTERS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
SYMBOLS = {
    **GREEK_LETTERS, "partial": "∂", "nabla": "∇", "circ": "∘", "cdot": "·",
    "times": " × ", "leftarrow": " ← ", "to": " → ", "rightarrow": " → ", "checkmark": "✓",
    "sum": "∑", "prod": "∏", "infty": "∞", "odot": " ⊙ ", "lVert": "‖", "rVert": "‖", "|": "‖",
    "ldots": "…", "cdots": "⋯", "dots": "…", "quad": "  ", "qquad": "    ", ",": " ",
    ";": " ", ":": " ", "!": "", " ": " ", "{": "{", "}": "}", "_": "_", "%": "%", "&": "&",
    "#": "#", "$": "$", "le": " ≤ ", "leq": " ≤ ", "ge": " ≥ ", "geq": " ≥ ", "ne": " ≠ ",
    "neq": " ≠ ", "approx": " ≈ ", "in": " ∈ ", "top": "ᵀ", "log": "log", "exp": "exp",
    "tanh": "tanh", "sin": "sin", "cos": "cos", "max": "max", "min": "min", "ell": "ℓ",
    "big": "", "Big": "", "bigg": "", "Bigg": "", "displaystyle": "",
    "textstyle": "", "bigl": "", "bigr": "", "Bigl": "", "Bigr": "", "biggl": "", "biggr": "",
    "Biggl": "", "Biggr": "", "wedge": " ∧ ", "land": " ∧ ", "vee": " ∨ ", "lor": " ∨ ",
    "mid": " | ", "pm": " ± ", "sqrt": "√", "textasciicircum": "^", "exists": "∃",
    "forall": "∀", "sim": " ~ ", "propto": " ∝ ", "cup": " ∪ ", "cap": " ∩ ", "subset": " ⊂ ",
    "neg": "¬", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "langle": "⟨",
    "rangle": "⟩", "star": "⋆", "ast": "∗", "sinh": "sinh", "cosh": "cosh", "arctan": "arctan",
    "erf": "erf", "sign": "sign", "sgn": "sgn", "operatorname": "", "lvert": "|", "rvert": "|",
    "vert": "|", "Vert": "‖", "prime": "′", "emptyset": "∅", "cdotp": "·", "colon": ":",
}
# Commands whose one argument is kept as it is (their style has no linear form worth having).
PLAIN = {"operatorname", "text", "textrm", "mathrm", "mathit", "textit", "mathsf", "mathnormal",
         "boldsymbol", "textbf", "mbox", "substack", "mathcal", "mathscr", "mathfrak",
         "underbrace", "overbrace", "underline", "textnormal", "mathop", "mathbin", "mathrel"}
_TOKEN = re.compile(r"\\([A-Za-z]+|.)|([{}^_])|(\s+)|(.)", re.S)


def _bold(text: str) -> str:
    """Mathematical bold letters (𝐖 for the runtime layout's weights)."""
    return "".join(chr(0x1D400 + ord(c) - ord("A")) if "A" <= c <= "Z" else
                   chr(0x1D41A + ord(c) - ord("a")) if "a" <= c <= "z" else c for c in text)


def script(text: str, table: dict[str, str], mark: str) -> str:
    """``text`` as sub- or superscript characters, or ``mark`` + it where one has none."""
    text = text.replace(" ", "")  # TeX ignores spaces in maths: W_{r s} is W_rs
    if text and all(c in table for c in text):
        return "".join(table[c] for c in text)
    return mark + (text if len(text) <= 1 or re.fullmatch(r"[A-Za-z0-9]+", text) else f"({text})")


def _wrapped(text: str) -> str:
    """A fraction's part, parenthesised when it is more than one term."""
    return f"({text})" if re.search(r"[\s+\-−·/]", text.strip()) else text.strip()


class _Reader:
    def __init__(self, tex: str):
        self.tokens = [m for m in _TOKEN.finditer(tex)]
        self.at = 0

    def _next(self):
        token = self.tokens[self.at]
        self.at += 1
        return token

    def argument(self) -> str:
        """The next group or single token, converted."""
        self._skip_spaces()  # as TeX does before an argument
        if self.at >= len(self.tokens):
            return ""
        token = self._next()
        if token.group(2) == "{":
            return self.until("}")
        return self.one(token)

    def until(self, closing: str | None) -> str:
        out: list[str] = []
        fraction = None  # where the last fraction is in out, while nothing else followed it
        while self.at < len(self.tokens):
            token = self._next()
            if closing and token.group(2) == closing:
                break
            if token.group(1) == "right" and out:  # no space before a closing delimiter
                out[-1] = out[-1].rstrip()
            text = self.one(token)
            if fraction is not None and text.strip():
                # a/b followed by a factor reads as a/(b x): parenthesise the fraction
                if text.strip()[0] not in "+−=,;.)]|<>≤≥→←·/":
                    out[fraction] = f"({out[fraction]})"
                fraction = None
            if token.group(1) == "frac":
                fraction = len(out)
            out.append(text)
        return "".join(out)

    def _skip_spaces(self) -> None:
        while self.at < len(self.tokens) and self.tokens[self.at].group(3):
            self.at += 1

    def one(self, token) -> str:
        command, special, space, char = token.groups()
        if space:
            return " "
        if char is not None:
            # & aligns: no text of its own; TeX spaces relations (\eta > 0, not η> 0)
            return {"-": "−", "&": "", "=": " = ", "<": " < ", ">": " > "}.get(char, char)
        if special == "{":
            return self.until("}")
        if special in ("^", "_"):
            inner = self.argument()
            return script(inner, SUPERSCRIPT if special == "^" else SUBSCRIPT, special)
        if special == "}":
            return ""
        if command.isalpha():  # a control word swallows the spaces after it
            self._skip_spaces()
        text = self.command(command)
        if text.isalpha() and len(text) > 1 and self._argument_follows():
            text += " "  # an operator name before its argument: log p, log σ(z)
        return text

    def _argument_follows(self) -> bool:
        """Whether a letter, a digit or a symbol's command comes next (not a bracket)."""
        if self.at >= len(self.tokens):
            return False
        command, _, _, char = self.tokens[self.at].groups()
        if char is not None:
            return char.isalnum()
        return bool(command) and command.isalpha() and command not in ("left", "right")

    def command(self, name: str) -> str:
        if name == "frac":
            top, bottom = self.argument(), self.argument()
            return f"{_wrapped(top)}/{_wrapped(bottom)}"
        if name in ("hat", "bar"):
            inner = self.argument()
            accent = "\u0302" if name == "hat" else "\u0304"
            # NFC: the one precomposed character where Unicode has it (ŷ is U+0177, as the
            # notation's own symbols print it), so that equal text compares equal
            return normalize("NFC", inner + accent) if len(inner) == 1 else f"{name}({inner})"
        if name == "sqrt":
            return f"√({self.argument()})"
        if name == "mathbb":
            inner = self.argument()
            return "".join(BLACKBOARD.get(c, c) for c in inner)
        if name in ("begin", "end"):  # an environment's name: cases read as {…; …}
            environment = self.argument()
            return ("{" if name == "begin" else "}") if environment == "cases" else ""
        if name == "\\":  # a new row
            return "; "
        if name in ("mathbf", "bm"):
            return _bold(self.argument())
        if name in PLAIN:
            return self.argument()
        if name in ("left", "right"):  # the delimiter that follows; "." is none
            text = self.argument()
            return "" if text == "." else text
        return SYMBOLS.get(name, name)


def latex_to_unicode(tex: str) -> str:
    """Linear Unicode for simple LaTeX (symbols, scripts, fractions, accents, operator names);
    anything else keeps its command's name without the backslash."""
    text = _Reader(tex).until(None)
    return re.sub(r"  +", " ", text).strip() if "quad" not in tex else text.strip()
