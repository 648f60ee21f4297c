"""Syntax: types, composition, parameters, drawing, DisCoPy interop."""

import pytest
from discopy import markov

import catlearn as cl

x, y = cl.real(3), cl.real(2)
f, g = cl.Box("f", x, y), cl.Box("g", y, x)


def test_types_compare_by_kind_and_shape():
    assert cl.real(3) == cl.real(3, name="features")
    assert cl.real(3) != cl.bits(3)
    assert cl.real(2, 3) != cl.real(3, 2)
    assert len(cl.real(3) @ cl.bits(2)) == 2


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_type_sizes_raise(bad):
    with pytest.raises(cl.TypeSpecError, match="positive int"):
        cl.real(bad)


def test_composition_mismatch_names_both_diagrams_and_types():
    with pytest.raises(cl.CompositionError) as err:
        cl.nn.linear(3, 4, name="l1") >> cl.nn.relu(5)
    msg = str(err.value)
    assert "matmul" in msg and "relu" in msg
    assert "real(4)" in msg and "real(5)" in msg and "Fix" in msg


def test_composition_error_is_a_discopy_axiom_error():
    from discopy.utils import AxiomError

    with pytest.raises(AxiomError):
        f >> f


def test_structural_boxes_compose():
    d = cl.Copy(x) >> f @ f >> cl.Swap(y, y) >> g @ cl.Discard(y)
    assert (d.dom, d.cod) == (x, x)
    assert cl.Copy(x @ y).cod == x @ y @ x @ y
    assert cl.Discard(x @ y).cod == cl.Id().cod
    assert cl.Swap(x @ y, y).cod == y @ x @ y
    assert cl.Copy(x, 1) == cl.Id(x)


def test_params_stable_order_and_tied_weights():
    d = cl.nn.mlp([4, 8, 3])
    assert list(d.params) == ["mlp.0.w", "mlp.0.b", "mlp.1.w", "mlp.1.b"]
    assert cl.params(d) == d.params
    tied = cl.nn.linear(3, 3, name="t") >> cl.nn.linear(3, 3, name="t")
    assert list(tied.params) == ["t.w"]


def test_conflicting_param_types_raise():
    d = cl.nn.linear(3, 4, name="same") >> cl.nn.linear(4, 4, name="same")
    with pytest.raises(cl.ParamError, match="two types"):
        d.params


def test_plain_discopy_diagrams_compose_with_catlearn_ones():
    h = markov.Box("h", x, x)
    assert isinstance(h >> f, cl.Diagram)
    assert isinstance(f >> markov.Box("k", y, y), cl.Diagram)
    assert isinstance(markov.Id(x) >> f, cl.Diagram)
    assert isinstance(f @ h, cl.Diagram)


def test_draw_writes_a_png(tmp_path):
    path = tmp_path / "mlp.png"
    cl.nn.mlp([4, 16, 3]).draw(str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def test_param_needs_one_wire():
    with pytest.raises(cl.TypeSpecError, match="one wire"):
        cl.Param("p", cl.real(2) @ cl.real(3))


def test_box_needs_types():
    with pytest.raises(cl.TypeSpecError, match="dom"):
        cl.Box("f", 3, cl.real(2))


def test_syntax_layer_imports_no_jax():
    import ast
    import pathlib

    import catlearn.diagrams

    for path in pathlib.Path(catlearn.diagrams.__path__[0]).glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(
                n.split(".")[0] in ("jax", "optax", "equinox") for n in names
            ), f"{path.name} imports {names}: diagrams must stay free of JAX"
