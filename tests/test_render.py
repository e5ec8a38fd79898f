"""Each notation renders the engine's equations as its book prints them."""
from __future__ import annotations

import pytest

from conftest import report


def claims(notation, **kw):
    r = report(**kw)
    n = next(n for n in r.notations if n.notation.name == notation)
    return {(c.id, c.layer): c.claim for c in n.checks}


@pytest.mark.parametrize("notation,check,layer,text,latex", [
    # Bishop (5.56), (5.53), (5.54)
    ("bishop", "hidden-delta", 1, "δ_j = h'(a_j) Σ_k w^(2)_kj δ_k",
     r"\delta_{j} = h'(a_{j}) \, \sum_{k} w^{(2)}_{kj} \, \delta_{k}"),
    ("bishop", "weight-gradient", 1, "∂E_n/∂w^(1)_ji = δ_j x_i",
     r"\frac{\partial E_n}{\partial w^{(1)}_{ji}} = \delta_{j} \, x_{i}"),
    ("bishop", "output-delta-canonical", 2, "δ_k = y_k - t_k", r"\delta_{k} = y_{k} - t_{k}"),
    ("bishop", "bias-gradient", 1, "∂E_n/∂w^(1)_j0 = δ_j",
     r"\frac{\partial E_n}{\partial w^{(1)}_{j0}} = \delta_{j}"),
    # Nielsen (37), BP1, BP2, BP3, BP4: the input layer is layer 1, the output layer L
    ("nielsen", "output-delta-general", 2, "δ^L_j = Σ_k ∂C/∂a^L_k ∂a^L_k/∂z^L_j",
     r"\delta^{L}_{j} = \sum_{k} \frac{\partial C}{\partial a^{L}_{k}} \, "
     r"\frac{\partial a^{L}_{k}}{\partial z^{L}_{j}}"),
    ("nielsen", "output-delta-diagonal", 2, "δ^L_j = ∂C/∂a^L_j σ'(z^L_j)",
     r"\delta^{L}_{j} = \frac{\partial C}{\partial a^{L}_{j}} \, \sigma'(z^{L}_{j})"),
    ("nielsen", "hidden-delta", 1, "δ^2_j = σ'(z^2_j) Σ_k w^L_kj δ^L_k",
     r"\delta^{2}_{j} = \sigma'(z^{2}_{j}) \, \sum_{k} w^{L}_{kj} \, \delta^{L}_{k}"),
    ("nielsen", "bias-gradient", 1, "∂C/∂b^2_j = δ^2_j",
     r"\frac{\partial C}{\partial b^{2}_{j}} = \delta^{2}_{j}"),
    ("nielsen", "weight-gradient", 1, "∂C/∂w^2_jk = δ^2_j a^1_k",
     r"\frac{\partial C}{\partial w^{2}_{jk}} = \delta^{2}_{j} \, a^{1}_{k}"),
    ("nielsen", "output-delta-canonical", 2, "δ^L_j = a^L_j - y_j",
     r"\delta^{L}_{j} = a^{L}_{j} - y_{j}"),
    # Eglen: weights from-to, delta of the opposite sign, p q r for one connection
    ("eglen", "hidden-delta", 1, "δ_q = g'(a_q) Σ_k w_qk δ_k",
     r"\delta_{q} = g'(a_{q}) \, \sum_{k} w_{qk} \, \delta_{k}"),
    ("eglen", "weight-gradient", 1, "∂E/∂w_pq = -δ_q y_p",
     r"\frac{\partial E}{\partial w_{pq}} = -\delta_{q} \, y_{p}"),
    ("eglen", "weight-gradient", 2, "∂E/∂w_qr = -δ_r y_q",
     r"\frac{\partial E}{\partial w_{qr}} = -\delta_{r} \, y_{q}"),
    ("eglen", "output-delta-canonical", 2, "δ_r = t_r - y_r", r"\delta_{r} = t_{r} - y_{r}"),
])
def test_claims_read_as_in_the_book(notation, check, layer, text, latex):
    claim = claims(notation)[(check, layer)]
    assert claim.text == text
    assert claim.latex == latex


@pytest.mark.parametrize("notation,lines", [
    ("bishop", ["a_j = Σ_i w^(1)_ji x_i + w^(1)_j0", "z_j = h(a_j)",
                "a_k = Σ_j w^(2)_kj z_j + w^(2)_k0", "y_k = f(a_k)",
                "E_n = 1/2 Σ_k (y_k - t_k)^2"]),
    ("nielsen", ["z^2_j = Σ_k w^2_jk a^1_k + b^2_j", "a^2_j = σ(z^2_j)",
                 "z^L_j = Σ_k w^L_jk a^2_k + b^L_j", "a^L_j = σ(z^L_j)",
                 "C = 1/2 Σ_j (a^L_j - y_j)^2"]),
    # Eglen (1)-(5): no biases in his notation, so none in the equations
    ("eglen", ["a_j = Σ_i w_ij y_i", "y_j = g(a_j)", "a_k = Σ_j w_jk y_j", "y_k = g(a_k)",
               "E = 1/2 Σ_k (y_k - t_k)^2"]),
])
def test_forward_equations_read_as_in_the_book(notation, lines):
    r = report(bias=notation != "eglen")  # Eglen's network has no biases
    n = next(n for n in r.notations if n.notation.name == notation)
    assert [f.text for f in n.forward] == lines


def test_eglen_on_a_network_with_biases_writes_them_and_says_they_are_outside_his_notation():
    n = next(n for n in report().notations if n.notation.name == "eglen")
    assert n.forward[0].text == "a_j = Σ_i w_ij y_i + b_j"
    assert any("outside the notation" in note for note in n.notes)


@pytest.mark.parametrize("notation,partial,entry", [
    ("bishop", "∂a_k/∂a_j", "w^(2)_kj h'(a_j)"),   # (5.55): not 1 when k = j, not 0 otherwise
    ("nielsen", "∂z^L_k/∂z^2_j", "w^L_kj σ'(z^2_j)"),
    ("eglen", "∂a_k/∂a_q", "w_qk g'(a_q)"),
])
def test_the_layer_jacobian_is_the_weight_times_the_slope_and_never_vanishes(notation, partial, entry):
    r = report()
    n = next(n for n in r.notations if n.notation.name == notation)
    layer = next(j for j in n.jacobians if j.kind == "layer")
    assert (layer.partial.text, layer.entry.text, layer.vanishing) == (partial, entry, "none")


@pytest.mark.parametrize("output,entry,vanishing", [
    ("sigmoid", "f'(a_k') I_(k',k)", "off-diagonal"),
    ("tanh", "f'(a_k') I_(k',k)", "off-diagonal"),
    ("softmax", "y_k' (I_(k',k) - y_k)", "none"),
])
def test_the_output_jacobian_is_diagonal_exactly_for_elementwise_activations(output, entry, vanishing):
    r = report(output=output)
    n = next(n for n in r.notations if n.notation.name == "bishop")
    out = next(j for j in n.jacobians if j.kind == "output-activation")
    assert (out.entry.text, out.vanishing) == (entry, vanishing)
    size = len(out.zero)
    assert [[out.zero[r][c] for c in range(size)] for r in range(size)] == \
        [[vanishing == "off-diagonal" and r != c for c in range(size)] for r in range(size)]


def test_the_translation_shows_the_traps():
    r = report()
    rows = {label: [c.text for c in cells] for label, cells in r.translation}
    assert rows["weighted input of a unit"] == ["a_j", "z^2_j", "a_j", "a^(1)_i", "z^(2)_i"]
    assert rows["output of a unit"] == ["z_j", "a^2_j", "y_j", "h^(1)_i", "a^(2)_i"]  # Nielsen's a is Bishop's z
    assert rows["weight into a unit"] == ["w^(1)_ji", "w^2_jk", "w_ij",      # Eglen's order reversed
                                          "W^(1)_ij", "Θ^(1)_ij"]           # Ng's mark: the layer it leaves
    assert rows["delta"] == ["δ_j", "δ^2_j", "-δ_j", "g^(1)_i", "δ^(2)_i"]  # Eglen's sign opposite
    assert rows["target"] == ["t_k", "y_j", "t_k", "y_i", "y_i"]           # Nielsen's y is the target


def test_the_derivation_is_derived_and_its_delta_steps_are_proved():
    r = report(output="softmax", loss="ce")
    bishop = next(n for n in r.notations if n.notation.name == "bishop")
    part, steps = bishop.derivation[0]
    lines = [s.equation.text for s in steps]
    assert lines[-1] == "δ_k = y_k - t_k"
    assert "δ_k = y_k Σ_k' t_k' - t_k" in lines
    assert all(str(s.verdict) == "proved" for s in steps if s.equation.text.startswith("δ"))
