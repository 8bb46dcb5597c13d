"""Issue 15: what a student reads. No LaTeX left in the Unicode text, textbook order of
factors, spacing, parentheses after a product dot, and worked steps that read
definition = numbers = result."""

from __future__ import annotations

import re

import pytest
import sympy as sp
from derivation_corpus import corpus

import symprop as sp_
from symprop.derive.printers import latex, unicode
from symprop.derive.symbols import y, yhat
from symprop.derive.texunicode import latex_to_unicode

# A macro's name left behind by the LaTeX-to-Unicode reading (a bare "frac", "mathbb").
MACROS = re.compile(r"mathbb|mathbf|mathrm|\bd?frac\b|operatorname|\\|\bleft[(\[|.]|\bright[)\]|]"
                    r"|begincases|endcases|textasciicircum|substack|[a-z]\{")


def test_no_derivation_text_has_latex_left():
    found = {}
    for name, derivation in corpus().items():
        for line in derivation.text().splitlines():
            if MACROS.search(line):
                found.setdefault(name, line)
    assert not found, found


@pytest.mark.parametrize(("tex", "text"), [
    (r"x \in \mathbb{R}^{2 \times 1}", "x ∈ ℝ²ˣ¹"),
    (r"A \in \mathbb{R}^{m \times n_{l-1}}", "A ∈ ℝ^(m×nₗ₋₁)"),
    (r"\mathbb{E}\left[g\right]", "𝔼[g]"),
    (r"\eta > 0", "η > 0"),
    (r"a \wedge b", "a ∧ b"),
    (r"\Bigl(x\Bigr)", "(x)"),
])
def test_prose_macros_read_as_unicode(tex, text):
    assert latex_to_unicode(tex) == text


def test_network_prose_has_the_reals_and_hat():
    text = sp_.network_derivation("2-3:relu-1:sigmoid", loss="bce").text()
    assert "x ∈ ℝ²ˣ¹" in text and "W⁽¹⁾ ∈ ℝ³ˣ²" in text
    assert "yhat" not in text and "ŷ the predicted probability of class 1" in text
    assert "learning rate η > 0" in text


def test_polynomial_factor_before_the_function():
    bce = sp_.loss("bce").expr
    assert unicode(bce) == "−y·log(ŷ) − (1 − y)·log(1 − ŷ)"
    assert latex(bce) == r"- y \log \hat{y} - (1 - y) \log(1 - \hat{y})"
    s = sp.Function("sigma")(sp.Symbol("z"))
    assert unicode(s * (1 - s)).startswith("sigma(z)(")  # a sum of functions stays after it
    assert unicode((1 - y) * sp.exp(yhat)).startswith("(1 − y)")


def test_negative_factor_after_a_dot_is_parenthesised():
    step = sp_.activation("sigmoid").derivation().steps[4]
    assert step.text().endswith("· (−e⁻ᶻ)")
    assert step.latex().endswith(r"\cdot (- e^{- z})")
    product = sp.Mul(sp.Symbol("a"), -sp.exp(-sp.Symbol("z")), evaluate=False)
    assert "· −" not in unicode(sp.Mul(2, product, evaluate=False))


def test_piecewise_output_delta_prints_as_text_in_the_network():
    text = sp_.network_derivation("3-4:softmax-2:leaky_relu", "huber").text()
    assert "begincases" not in text and "{ŷ − y if ŷ > 0 and" in text


def test_explain_steps_read_definition_numbers_result():
    net = sp_.Network([sp_.Dense(1, 1, "relu"), sp_.Dense(1, 1, "identity")], loss="mse",
                      dtype="float64")
    net.set_params([([[3.0]], [0.0]), ([[0.5]], [0.0])])  # the notes' seed 003
    steps = {step.title: step for step in net.explain([[2.0]], [5.0]).steps}
    slope = steps["Layer 2: slope of identity"]
    assert len(slope.expression) == 3 and slope.expression[-1] == 1
    assert "identity'(z⁽²⁾) = identity'(3) = 1" == slope.text()
    assert "identity'(z⁽²⁾) = 1" in unicode(slope.why[-1])  # the formula in the prose
    delta = steps["Error signal of the output layer 2"]
    assert len(delta.expression) == 4  # δ = ∂L/∂ŷ ⊙ f'(z) = numbers = result
    assert "2(ŷ − y)" not in delta.text() and "2(ŷ − y)" in unicode(delta.why[-1])


def test_operator_names_keep_a_space_before_their_argument():
    assert latex_to_unicode(r"\log(p/q) = \log p - \log q") == "log(p/q) = log p − log q"
    assert latex_to_unicode(r"\log \sigma(z)") == "log σ(z)"


def test_a_negative_operand_of_a_derivative_is_parenthesised():
    tex = sp_.loss("bce").derivation().latex()
    assert r"\frac{\partial}{\partial \hat{y}} - y" not in tex
    assert r"\frac{\partial}{\partial \hat{y}} (- y \cdot g" in tex


def test_logit_forms_and_dense_rules_have_no_ascii_maths():
    from symprop.derive.losses import logit_forms

    texts = [d.text() for d in logit_forms().values()]
    texts.append(sp_.network_derivation("2-3:relu-1:sigmoid", loss="bce").text())
    for text in texts:
        for ascii_maths in ("yhat", "Max(", "<=", "sum_", "z_p", "W_rs", "e^z", "log p -"):
            assert ascii_maths not in text, ascii_maths
    assert "every gradient of J carries" in sp_.loss("bce").derivation().text()
    assert r"gradient of \(J\)" in sp_.loss("bce").derivation().latex()


def test_one_derivative_symbol_for_functions_of_one_variable():
    # Review item D: the CONVENTIONS' \partial everywhere, never SymPy's d for one variable.
    for derivation in (sp_.activation("elu").derivation(), sp_.loss("bce").derivation()):
        tex = derivation.latex()
        assert r"\frac{d}{d" not in tex and r"\frac{\partial}{\partial" in tex
        assert "d/d" not in derivation.text()


def test_derivative_brackets_in_text():
    # Review item I: brackets around a derivative in a product, none around a simple operand.
    sigmoid = sp_.activation("sigmoid").derivation().text()
    assert "(∂a/∂z)(1 − 2a)" in sigmoid and "∂(a)/∂z" not in sigmoid
    bce = sp_.loss("bce").derivation().text()
    assert "∂log(ŷ)/∂ŷ" in bce and "∂(log(ŷ))" not in bce
    assert "(y − 1) · (∂(1 − ŷ)/∂ŷ)/(1 − ŷ)" in bce and "∂ŷ/(1 − ŷ))" not in bce


def test_reason_after_a_title_starts_a_sentence():
    # Review item C: "*Product rule.* Each factor ...", in every format; maths stays as it is.
    from symprop.derive.derivation import sentence
    from symprop.derive.notation import TeX

    d = sp_.activation("sigmoid").derivation()
    assert r"\textit{3. Sum rule.} Differentiate term by term" in d.latex()
    assert "**3. Sum rule.** Differentiate term by term" in d.markdown()
    assert "(Differentiate term by term" in d.text()
    assert sentence((TeX("a = 1"), " holds")) == (TeX("a = 1"), " holds")
    assert sentence("f(z) is increasing") == "f(z) is increasing"
    assert sentence(("a constant", TeX("c"))) == ("A constant", TeX("c"))


def test_notes_wording_code_names_and_constant_first():
    # Review item J.
    from symprop.derive.delta import output_delta
    from symprop.derive.notation import CONVENTIONS
    from symprop.derive.optimizer_derivations import rule_derivation
    from symprop.derive.optimizers import update_rule

    network = sp_.network_derivation("2-3:relu-1:sigmoid", loss="bce").text()
    assert "the notes" not in network.lower() and "notes'" not in network
    assert not any("notes" in text for _, text in CONVENTIONS)
    nesterov = rule_derivation(update_rule("sgd", momentum=0.9, nesterov=True))
    assert r"\texttt{torch.optim.SGD}" in nesterov.latex()
    assert "`torch.optim.SGD`" in nesterov.markdown()
    assert "(1 + μ)" in nesterov.text() and "μ + 1" not in nesterov.text()
    assert "wₜ = θₜ + μ·uₜ" in nesterov.text()
    ce = output_delta(sp_.loss("ce"), sp_.activation("softmax"))
    assert all(step.why != "algebra" for step in ce.steps)


def test_huber_threshold_is_not_the_error_signal():
    # Review item H: Huber's delta (the API's name) prints kappa; delta is the error signal.
    huber = sp_.loss("huber", delta=0.5)
    assert huber.hyperparameters == {"delta": 0.5}
    text, tex = huber.derivation().text(), huber.derivation().latex()
    assert "κ" in text and "δ" not in text and r"\kappa" in tex and r"\delta" not in tex
    network = sp_.network_derivation("3-4:softmax-2:leaky_relu", "huber").text()
    assert "κ" in network and "δ⁽" in network


def test_mse_output_delta_is_factored_throughout():
    # Review item F: 2(ŷ − y) as the loss derivation ends, not 2ŷ − 2y after "Simplify".
    from symprop.derive.delta import output_delta

    text = output_delta(sp_.loss("mse"), sp_.activation("identity")).text()
    assert "2ŷ − 2y" not in text and text.count("2(ŷ − y)") >= 3


def test_ce_network_sums_to_k_throughout():
    # Review item G: the loss's sum runs to K (stated K = n_L = 3), as the delta's steps do.
    tex = sp_.network_derivation("4-8:relu-3:softmax", "ce").latex()
    assert r"\sum_{k=1}^{3}" not in tex and r"\sum_{k=1}^{K}" in tex
    assert r"K = n_{L} = 3" in tex


# A one-letter variable standing alone among words ("of z", "f is increasing"; not the
# article "a", "A" or "I"), or a function applied in words ("Phi(", "f(z)").
_WORD_VARIABLE = re.compile(r"(?<![\w'’-])(?!a\b|A\b|I\b)([A-Za-z])(?![\w'’(-])(?!\.\w)")
_WORD_CALL = re.compile(r"(?<![\w\\])[A-Za-z]+'*\((?=[A-Za-z])")


def _words(prose_text):
    from symprop.derive.layout import parts
    from symprop.derive.notation import Code, TeX

    return [p for p in parts(prose_text) if isinstance(p, str) and not isinstance(p, TeX | Code)]


def test_no_maths_written_as_words():
    # Review item B: every step title and reason and every note writes its maths as maths.
    # (A derivation's own title is a plain heading: "Gradient of f" names the function.)
    found = {}
    for name, derivation in corpus().items():
        proses = [*derivation.notes, *(s.title for s in derivation.steps),
                  *(s.why for s in derivation.steps if s.why)]
        for words in (w for prose_text in proses for w in _words(prose_text)):
            match = _WORD_VARIABLE.search(words) or _WORD_CALL.search(words)
            if match:
                found.setdefault(name, words)
    assert not found, found
    assert _WORD_VARIABLE.search("each interval of z maps") and _WORD_CALL.search("Phi(z)")
    assert not _WORD_VARIABLE.search("a batch of samples (one-hot), PyTorch's x-axis")


def test_elu_second_derivative_is_one_case_distinction_and_whole_values():
    # Review item E: the product of piecewise folded and simplified; 1, not 1.0; no line of
    # the LaTeX starts with punctuation after a displayed formula.
    d = sp_.activation("elu").derivation()
    text = d.text()
    assert "= {0 if a > 0; a + α otherwise}" in text and "a + 1.0" not in text
    assert "{1 if a > 0; a + 1 otherwise}" in text
    assert not re.search(r"\\\][,.;:]", d.latex()) and r",\] and" in d.latex()


def test_an_activation_name_starting_a_reason_is_not_capitalised():
    """Capitalising the reason's first word must not turn relu into 'Relu'."""
    text = sp_.network_derivation("2-3:relu-1:sigmoid", loss="bce").text()
    assert "Relu" not in text and "Sigmoid applied" not in text
    assert "The activation relu applied to each of the 3 units" in text


def test_a_sum_over_two_indices_shows_both():
    """The batch mean of an elementwise loss sums over samples and output units: both sums
    are printed, in LaTeX and in text (the text printer once dropped the second)."""
    step = sp_.loss("huber").derivation().steps[1]
    assert r"\sum_{i=1}^{m} \sum_{k=1}^{n_{L}} L_{ik}" in step.latex()
    assert "∑ᵢ₌₁ᵐ ∑ₖ₌₁^(n_L) Lᵢₖ" in step.text()


def test_accented_letters_are_precomposed_in_text():
    """ŷ is one character (U+0177) whichever printer made it: LaTeX's \\hat{y} read back
    into Unicode and the notation's own ŷ compare equal, and text is searchable."""
    assert latex_to_unicode(r"\hat{y}") == "\u0177" == unicode(yhat)
    text = sp_.network_derivation("30-16:relu-8:relu-1:sigmoid", loss="bce").text()
    assert "\u0302" not in text and "δ⁽³⁾ = ∂L/∂z⁽³⁾ = ŷ − y" in text
