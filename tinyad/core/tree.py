"""Containers in and out: flatten tuples, lists, dicts (and nestings of them) to leaves and back."""

from __future__ import annotations

from typing import Any, Callable


class TreeDef:
    """The shape of a container: rebuilds it around a new list of leaves."""

    __slots__ = ("kind", "meta", "children", "n")

    def __init__(self, kind: str, meta: Any = None, children: tuple = ()) -> None:
        self.kind, self.meta, self.children = kind, meta, children
        self.n = 1 if kind == "leaf" else sum(c.n for c in children)

    def unflatten(self, leaves: list) -> Any:
        it = iter(leaves)
        return self._build(it)

    def _build(self, it) -> Any:
        if self.kind == "leaf":
            return next(it)
        items = [c._build(it) for c in self.children]
        if self.kind == "dict":
            return dict(zip(self.meta, items))
        if self.kind == "namedtuple":
            return self.meta(*items)
        return self.meta(items)  # tuple or list

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TreeDef) and self.kind == other.kind and self.meta == other.meta
                and self.children == other.children)

    def __hash__(self) -> int:
        return hash((self.kind, self.children))

    def __repr__(self) -> str:
        return f"TreeDef({self.kind}, {self.n} leaves)"


def flatten(tree: Any) -> tuple[list, TreeDef]:
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(t: Any, leaves: list) -> TreeDef:
    if isinstance(t, dict):
        keys = tuple(t.keys())
        return TreeDef("dict", keys, tuple(_flatten(t[k], leaves) for k in keys))
    if isinstance(t, tuple) and hasattr(t, "_fields"):
        return TreeDef("namedtuple", type(t), tuple(_flatten(c, leaves) for c in t))
    if isinstance(t, (tuple, list)):
        return TreeDef(type(t).__name__, type(t), tuple(_flatten(c, leaves) for c in t))
    leaves.append(t)
    return TreeDef("leaf")


def tree_map(f: Callable, tree: Any, *rest: Any) -> Any:
    """Apply ``f`` leaf by leaf to ``tree`` and trees of the same structure ``rest``."""
    leaves, td = flatten(tree)
    others = [flatten(r) for r in rest]
    for lv, otd in others:
        if otd != td:
            raise ValueError(f"tree structures differ: {td} vs {otd}")
    return td.unflatten([f(*xs) for xs in zip(leaves, *[lv for lv, _ in others])])


def leaf_names(td: TreeDef, root: str = "hyperparameter") -> list[str]:
    """Readable names of a container's leaves, in flattening order: 'lr', 'opt.momentum', 'lrs[2]'.
    A bare leaf (no container) is called ``root``."""
    return _names(td, "") if td.kind != "leaf" else [root]


def _names(td: TreeDef, prefix: str) -> list[str]:
    if td.kind == "leaf":
        return [prefix]
    keys = td.meta if td.kind == "dict" else range(len(td.children))
    out = []
    for key, child in zip(keys, td.children):
        name = (f"{prefix}.{key}" if prefix else str(key)) if td.kind == "dict" else f"{prefix}[{key}]"
        out += _names(child, name)
    return out


tree_flatten = flatten
