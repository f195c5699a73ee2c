"""Pytrees with JAX's semantics. Expected values were computed with jax.tree_util (JAX 0.10) and are
hard-coded here (JAX is not a test dependency)."""

import collections
import dataclasses
import pickle

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad import optim, tree

P = collections.namedtuple("P", "w b")


def test_dicts_flatten_in_sorted_key_order_like_jax():
    assert tinyad.tree_leaves({"b": 1, "a": 2, "c": None}) == [2, 1]  # JAX: [2, 1]
    assert tinyad.tree_leaves([None, (1,), {"z": 3, "y": [4, None]}]) == [1, 4, 3]  # JAX: [1, 4, 3]
    mapped = tinyad.tree_map(lambda x: x * 10, {"b": 1, "a": 2})
    assert mapped == {"a": 20, "b": 10} and list(mapped) == ["a", "b"]  # JAX rebuilds dicts in sorted order
    assert repr(tinyad.tree_structure({"b": 1, "a": [2, None]})) == "PyTreeDef({'a': [*, None], 'b': *})"
    assert tinyad.tree_structure({"b": 1, "a": 2}) == tinyad.tree_structure({"a": 3.0, "b": np.ones(2)})


def test_ordered_dicts_namedtuples_defaultdicts():
    assert tinyad.tree_leaves(collections.OrderedDict([("b", 1), ("a", 2)])) == [1, 2]  # insertion order (JAX)
    assert tinyad.tree_leaves(P(b=1, w=2)) == [2, 1]  # field order (JAX)
    assert tinyad.tree_leaves(collections.defaultdict(int, {"b": 1, "a": 2})) == [2, 1]
    dd = tinyad.tree_map(lambda x: x + 1, collections.defaultdict(list, {"b": 1}))
    assert isinstance(dd, collections.defaultdict) and dd.default_factory is list and dd["b"] == 2
    p = tinyad.tree_map(lambda x: -x, P(1.0, 2.0))
    assert isinstance(p, P) and p == P(-1.0, -2.0)


def test_none_is_an_empty_subtree():
    leaves, td = tinyad.tree_flatten({"a": None, "b": (None, 1.0)})
    assert leaves == [1.0] and td.unflatten([5.0]) == {"a": None, "b": (None, 5.0)}
    g = tinyad.grad(lambda p: p["w"] ** 2)({"w": 3.0, "unused": None})
    assert g == {"unused": None, "w": 6.0}


def test_the_same_keys_in_another_order_are_the_same_structure_everywhere():
    a = {"W": np.ones(2), "b": np.zeros(1)}
    b = {"b": np.zeros(1), "W": np.ones(2)}
    assert tinyad.tree_structure(a) == tinyad.tree_structure(b)
    out = tinyad.tree_map(lambda x, y: x + y, a, b)
    np.testing.assert_array_equal(out["W"], 2 * np.ones(2))
    opt = optim.sgd(0.1, 0.9)
    state = opt.init(a)
    new, _ = opt.update(b, state, a)  # gradients built in another key order
    np.testing.assert_allclose(new["W"], 0.9 * np.ones(2))
    h = tinyad.hvp(lambda p: tnp.sum(p["W"] ** 2) + tnp.sum(p["b"] ** 3), a, b)
    np.testing.assert_allclose(h["W"], 2.0 * np.ones(2))


def test_structure_mismatch_messages_say_where_and_why():
    with pytest.raises(ValueError, match=r"dict keys \['a', 'b'\] vs \['a', 'c'\]"):
        tinyad.tree_map(lambda x, y: x + y, {"a": 1, "b": 2}, {"a": 1, "c": 2})
    with pytest.raises(ValueError, match=r"at \.opt\[1\]: a leaf vs a tuple"):
        tinyad.tree_map(lambda x, y: x, {"opt": [1, 2]}, {"opt": [1, (2, 3)]})
    with pytest.raises(ValueError, match="not shaped like the parameters: at the top: dict keys"):
        opt = optim.sgd(0.1)
        opt.update({"w": np.ones(2)}, opt.init({"v": np.ones(2)}), {"v": np.ones(2)})


def test_register_pytree_node_and_dataclasses():
    class Pair:
        def __init__(self, x, y):
            self.x, self.y = x, y

    tree.register_pytree_node(Pair, lambda p: ((p.x, p.y), None), lambda _, c: Pair(*c))
    g = tinyad.grad(lambda p: p.x * p.y)(Pair(2.0, 5.0))
    assert isinstance(g, Pair) and (g.x, g.y) == (5.0, 2.0)
    with pytest.raises(ValueError, match="already registered"):
        tree.register_pytree_node(Pair, lambda p: ((), None), lambda _, c: Pair(0, 0))

    @tinyad.register_dataclass(meta_fields=("name",))
    @dataclasses.dataclass
    class Layer:
        w: np.ndarray
        b: np.ndarray
        name: str = "dense"

    layer = Layer(np.array([1.0, 2.0]), np.array([0.5]))
    g = tinyad.grad(lambda lay: tnp.sum(lay.w ** 2) + tnp.sum(lay.b))(layer)
    assert isinstance(g, Layer) and g.name == "dense"
    np.testing.assert_allclose(g.w, [2.0, 4.0])
    assert tinyad.tree_leaves(layer)[0] is layer.w and len(tinyad.tree_leaves(layer)) == 2
    assert tinyad.tree_structure(layer) != tinyad.tree_structure(Layer(layer.w, layer.b, "other"))
    assert tree.leaf_names(tinyad.tree_structure({"l": layer})) == ["l.w", "l.b"]


def test_is_leaf_and_unflatten():
    t = {"a": (1, 2), "b": [3]}
    leaves, td = tinyad.tree_flatten(t, is_leaf=lambda x: isinstance(x, tuple))
    assert leaves == [(1, 2), 3]
    assert tinyad.tree_unflatten(td, ["x", "y"]) == {"a": "x", "b": ["y"]}
    assert tinyad.tree_map(lambda x: 0, t, is_leaf=lambda x: isinstance(x, tuple)) == {"a": 0, "b": [0]}
    with pytest.raises(ValueError, match="has 2 leaves, got 3"):
        td.unflatten([1, 2, 3])


def test_treedefs_pickle():
    td = tinyad.tree_structure({"a": [1, None], "b": P(1, 2)})
    assert pickle.loads(pickle.dumps(td)) == td


def test_static_data_equal_in_python_but_different_is_a_different_structure():
    # 1 == True == 1.0 and 0.0 == -0.0 in Python (with equal hashes): structures and compiled programs made for
    # one must not be reused for another
    assert list(tinyad.tree_map(lambda v: v, {1: 5.0})) == [1]
    assert [type(k) for k in tinyad.tree_map(lambda v: v, {True: 5.0})] == [bool]
    assert tinyad.tree_structure({1: 0.0}) != tinyad.tree_structure({True: 0.0})

    @dataclasses.dataclass
    class Signed:
        w: float
        sign: float

    tinyad.register_dataclass(Signed, meta_fields=("sign",))
    f = lambda c: c.w * np.copysign(1.0, c.sign)  # noqa: E731
    assert tinyad.grad(f)(Signed(2.0, 0.0)).w == 1.0
    assert tinyad.grad(f)(Signed(2.0, -0.0)).w == -1.0
    g = tinyad.jit(lambda x, s: x * np.copysign(1.0, s), static_argnums=1)
    assert (g(2.0, 0.0), g(2.0, -0.0)) == (2.0, -2.0)


def test_register_dataclass_checks_its_fields_and_that_meta_fields_are_hashable():
    @dataclasses.dataclass
    class R:
        a: float
        b: object

    with pytest.raises(ValueError, match="exactly one of data_fields"):
        tinyad.register_dataclass(R, data_fields=["a"])
    with pytest.raises(ValueError, match="no field 'c'"):
        tinyad.register_dataclass(R, data_fields=["a", "c"], meta_fields=["b"])
    tinyad.register_dataclass(R, meta_fields="b")
    with pytest.raises(TypeError, match=r"R\.b is a meta field .* must be hashable; got ndarray"):
        tinyad.jvp(lambda r: r.a * 2.0, (R(1.0, np.ones(2)),), (R(1.0, np.ones(2)),))
