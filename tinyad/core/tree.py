"""Containers in and out (pytrees), with JAX's semantics.

A pytree is a leaf (a float, an array, a box, anything not registered) or a registered container of
pytrees: tuples, lists, dicts (flattened in *sorted key order*, so two dicts with the same keys are the
same structure whatever order they were built in), namedtuples, ``collections.OrderedDict`` (insertion
order, as JAX) and ``defaultdict``, and ``None`` — a container with no children (an empty subtree).
Register your own containers with :func:`register_pytree_node` (or :func:`register_dataclass`).

``flatten(tree) -> (leaves, treedef)`` and ``treedef.unflatten(leaves)`` are all the rest of tinyad uses.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict, defaultdict
from typing import Any, Callable, Iterable

import numpy as np

_NODES: dict[type, tuple[Callable, Callable]] = {}  # type -> (flatten(x) -> (children, aux), unflatten(aux, children))


def register_pytree_node(nodetype: type, flatten_fn: Callable, unflatten_fn: Callable) -> None:
    """Make ``nodetype`` a container: ``flatten_fn(x) -> (children, aux_data)`` and
    ``unflatten_fn(aux_data, children) -> x``. ``aux_data`` (static information) must be hashable and
    comparable: two trees are the same structure when their node types and aux data are equal."""
    if nodetype in _NODES:
        raise ValueError(f"{nodetype.__name__} is already registered as a pytree node")
    _NODES[nodetype] = (flatten_fn, unflatten_fn)


def register_dataclass(nodetype: type | None = None, *, data_fields: Iterable[str] | None = None,
                       meta_fields: Iterable[str] = ()) -> Any:
    """Register a dataclass as a container of its ``data_fields`` (default: every field not in
    ``meta_fields``); ``meta_fields`` are static (part of the structure). Usable as a decorator."""
    if nodetype is None:
        return lambda cls: register_dataclass(cls, data_fields=data_fields, meta_fields=meta_fields)
    if not dataclasses.is_dataclass(nodetype):
        raise TypeError(f"register_dataclass: {nodetype.__name__} is not a dataclass")
    meta = (meta_fields,) if isinstance(meta_fields, str) else tuple(meta_fields)
    data = tuple(f.name for f in dataclasses.fields(nodetype) if f.name not in meta) if data_fields is None \
        else ((data_fields,) if isinstance(data_fields, str) else tuple(data_fields))
    init_fields = {f.name for f in dataclasses.fields(nodetype) if f.init}
    for name in data + meta:
        if name not in init_fields:
            raise ValueError(f"register_dataclass: {nodetype.__name__} has no field {name!r} set by __init__ "
                             f"(its fields: {sorted(init_fields)})")
    if set(data) & set(meta) or init_fields - set(data) - set(meta):
        raise ValueError(f"register_dataclass: every field of {nodetype.__name__} set by __init__ must be in "
                         f"exactly one of data_fields {list(data)} and meta_fields {list(meta)}; fields "
                         f"{sorted(init_fields)}")

    def flatten_fn(x):
        statics = tuple(getattr(x, f) for f in meta)
        for name, value in zip(meta, statics):
            try:
                hash(value)
            except TypeError:
                raise TypeError(f"{nodetype.__name__}.{name} is a meta field (static, part of the tree's structure) "
                                f"and must be hashable; got {type(value).__name__}. Make it a data field if it is "
                                "an array.") from None
        return [getattr(x, f) for f in data], (data, statics)

    def unflatten_fn(aux, children):
        return nodetype(**dict(zip(aux[0], children)), **dict(zip(meta, aux[1])))

    register_pytree_node(nodetype, flatten_fn, unflatten_fn)
    return nodetype


def _sorted_keys(d: dict) -> list:
    try:
        return sorted(d)
    except TypeError:
        raise TypeError(f"a dict in a pytree must have sortable keys (they are flattened in sorted order, as in "
                        f"JAX); got keys {list(d)!r:.80}") from None


def _flatten_dict(d: dict) -> tuple:
    keys = _sorted_keys(d)
    return [d[k] for k in keys], tuple(keys)


def _flatten_defaultdict(d: defaultdict) -> tuple:
    children, keys = _flatten_dict(d)
    return children, (d.default_factory, keys)


register_pytree_node(tuple, lambda t: (t, None), lambda _, c: tuple(c))
register_pytree_node(list, lambda t: (t, None), lambda _, c: list(c))
register_pytree_node(dict, _flatten_dict, lambda keys, c: dict(zip(keys, c)))
register_pytree_node(OrderedDict, lambda d: (list(d.values()), tuple(d)), lambda keys, c: OrderedDict(zip(keys, c)))
register_pytree_node(defaultdict, _flatten_defaultdict, lambda aux, c: defaultdict(aux[0], zip(aux[1], c)))
register_pytree_node(type(None), lambda _: ((), None), lambda _, c: None)


def _node_of(x: Any) -> tuple | None:
    """(flatten_fn, unflatten_fn) if ``x`` is a container, else None (a leaf)."""
    entry = _NODES.get(type(x))
    if entry is None and isinstance(x, tuple) and hasattr(x, "_fields"):  # namedtuples are containers
        return _NAMEDTUPLE
    return entry


_NAMEDTUPLE = (lambda t: (tuple(t), None), None)  # unflattened by calling the type


class TreeDef:
    """The structure of a pytree: rebuilds it around a new list of leaves (``unflatten``)."""

    __slots__ = ("node", "aux", "children", "num_leaves", "_hash")

    def __init__(self, node: type | None, aux: Any = None, children: tuple = ()) -> None:
        self.node, self.aux, self.children = node, aux, children
        self.num_leaves = 1 if node is None else sum(c.num_leaves for c in children)
        self._hash = None

    @property
    def is_leaf(self) -> bool:
        return self.node is None

    def unflatten(self, leaves: Iterable) -> Any:
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f"unflatten: this structure has {self.num_leaves} leaves, got {len(leaves)}: {self!r}")
        return self._build(iter(leaves))

    def _build(self, it) -> Any:
        node = self.node
        if node is None:
            return next(it)
        children = [c._build(it) for c in self.children]
        if node is dict:
            return dict(zip(self.aux, children))
        if node is tuple:
            return tuple(children)
        if node is list:
            return children
        if node in _NODES:
            return _NODES[node][1](self.aux, children)
        return node(*children)  # a namedtuple

    def keys(self) -> list[str]:
        """How each child is addressed: '.key' for dicts, namedtuples and dataclasses, '[i]' otherwise."""
        if self.node in (dict, OrderedDict):
            return [f".{k}" for k in self.aux]
        if self.node is defaultdict:
            return [f".{k}" for k in self.aux[1]]
        if self.node is not None and hasattr(self.node, "_fields"):
            return [f".{k}" for k in self.node._fields]
        if self.node is not None and dataclasses.is_dataclass(self.node) and isinstance(self.aux, tuple):
            return [f".{k}" for k in self.aux[0]]
        return [f"[{i}]" for i in range(len(self.children))]

    def __eq__(self, other: object) -> bool:
        return (self is other or isinstance(other, TreeDef) and self.node is other.node
                and same_static(self.aux, other.aux) and self.children == other.children)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self.node, _hashable(self.aux), self.children))
        return self._hash

    def __repr__(self) -> str:
        return f"PyTreeDef({self._show()})"

    def _show(self) -> str:
        if self.node is None:
            return "*"
        parts = [c._show() for c in self.children]
        if self.node is type(None):
            return "None"
        if self.node is tuple:
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        if self.node is list:
            return "[" + ", ".join(parts) + "]"
        if self.node in (dict, OrderedDict, defaultdict):
            keys = self.aux[1] if self.node is defaultdict else self.aux
            inner = "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(keys, parts)) + "}"
            return inner if self.node is dict else f"{self.node.__name__}({inner})"
        return f"{self.node.__name__}(" + ", ".join(k.lstrip(".") + "=" + p if k.startswith(".") else p
                                                     for k, p in zip(self.keys(), parts)) + ")"


def _hashable(aux: Any) -> Any:
    try:
        hash(aux)
        return aux
    except TypeError:
        return repr(aux)


def static_key(x: Any) -> Any:
    """A key that tells static values apart exactly where ``==`` does not: ``1``, ``True`` and ``1.0`` (equal
    and of equal hash in Python) or ``0.0`` and ``-0.0`` differ here, so a structure or a compiled program made
    for one is never reused for the other. Containers are keyed element by element."""
    tx = type(x)
    if tx is str or x is None:
        return x
    if tx is tuple or tx is list or tx is frozenset:
        return (tx, *map(static_key, sorted(x, key=repr) if tx is frozenset else x))
    if isinstance(x, (float, complex, np.floating, np.complexfloating)):
        return (tx, repr(x))  # repr tells -0.0 from 0.0, and nan equals itself
    return (tx, x)


def same_static(a: Any, b: Any) -> bool:
    """Static data equal as :func:`static_key` sees it (the usual case, identical objects, first)."""
    if a is b:
        return True
    try:
        return static_key(a) == static_key(b)
    except (TypeError, ValueError):  # e.g. arrays as static data: equal only if identical
        return False


LEAF = TreeDef(None)
_LEAF_TYPES = frozenset({float, int, complex, bool, str, np.ndarray, np.float64, np.float32})  # never containers


def flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, TreeDef]:
    """``(leaves, treedef)``: the leaves in order (dict keys sorted) and the structure to rebuild the tree."""
    leaves: list = []
    return leaves, _flatten(tree, leaves, is_leaf)


_INTERNED: dict = {}  # one TreeDef per structure: equal structures compare (and hash) at the cost of identity


def _treedef(node: type, aux: Any, children: tuple) -> TreeDef:
    key = (node, aux if aux is None or type(aux) is tuple and all(type(k) is str for k in aux) else static_key(aux),
           children)
    try:
        td = _INTERNED.get(key)
    except TypeError:  # unhashable static data (a dataclass's meta field): not interned
        return TreeDef(node, aux, children)
    if td is None:
        td = TreeDef(node, aux, children)
        if len(_INTERNED) < 100_000:
            _INTERNED[key] = td
    return td


def _flatten(t: Any, leaves: list, is_leaf: Callable | None) -> TreeDef:
    tt = type(t)
    if is_leaf is None:  # the common containers without a registry lookup (this runs on every grad and jit call)
        if tt is dict:
            keys = _sorted_keys(t)
            return _treedef(dict, tuple(keys), tuple([_flatten(t[k], leaves, None) for k in keys]))
        if tt is tuple or tt is list:
            return _treedef(tt, None, tuple([_flatten(c, leaves, None) for c in t]))
        if tt in _LEAF_TYPES:
            leaves.append(t)
            return LEAF
    node = None if is_leaf is not None and is_leaf(t) else _node_of(t)
    if node is None:
        leaves.append(t)
        return LEAF
    children, aux = node[0](t)
    return _treedef(tt, aux, tuple(_flatten(c, leaves, is_leaf) for c in children))


tree_flatten = flatten


def tree_unflatten(treedef: TreeDef, leaves: Iterable) -> Any:
    return treedef.unflatten(leaves)


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
    return flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> TreeDef:
    return flatten(tree, is_leaf)[1]


def tree_map(f: Callable, tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Apply ``f`` leaf by leaf to ``tree`` and trees of the same structure ``rest``."""
    leaves, td = flatten(tree, is_leaf)
    others = []
    for r in rest:
        r_leaves, r_td = flatten(r, is_leaf)
        if r_td != td:
            raise ValueError(f"tree_map: tree structures differ: {mismatch(td, r_td)}")
        others.append(r_leaves)
    return td.unflatten([f(*xs) for xs in zip(leaves, *others)])


def mismatch(a: TreeDef, b: TreeDef, path: str = "") -> str:
    """Where and how two structures first differ, for error messages."""
    where = f"at {path}" if path else "at the top"
    if a.node is not b.node:
        what = lambda t: "a leaf" if t.node is None else f"a {t.node.__name__}"  # noqa: E731
        return f"{where}: {what(a)} vs {what(b)}"
    if not same_static(a.aux, b.aux):
        if a.node in (dict, OrderedDict):
            return f"{where}: dict keys {sorted(a.aux)!r} vs {sorted(b.aux)!r}"
        return f"{where}: {a.node.__name__} metadata {a.aux!r} vs {b.aux!r}"
    if len(a.children) != len(b.children):
        return f"{where}: {len(a.children)} vs {len(b.children)} children"
    for key, ca, cb in zip(a.keys(), a.children, b.children):
        if ca != cb:
            return mismatch(ca, cb, path + key)
    return f"{where}: (equal)"


def leaf_names(td: TreeDef, root: str = "hyperparameter") -> list[str]:
    """Readable names of a tree's leaves, in flattening order: 'lr', 'opt.momentum', 'lrs[2]'.
    A bare leaf (no container) is called ``root``."""
    return [root] if td.node is None else [n.lstrip(".") for n in _names(td, "")]


def _names(td: TreeDef, prefix: str) -> list[str]:
    if td.node is None:
        return [prefix]
    out = []
    for key, child in zip(td.keys(), td.children):
        out += _names(child, prefix + key)
    return out
