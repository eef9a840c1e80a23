"""A ceiling on how far YAML aliases may expand, so a 1 KB file cannot exhaust memory.

YAML anchors and aliases are legitimate in the curated files (one provenance block shared by
several outcomes), but nested aliases multiply: nine levels of nine aliases is 387 million
nodes from a few hundred bytes (the "billion laughs" of YAML). PyYAML composes aliases as shared
nodes, so composing is cheap; what explodes is every later walk of the tree (our line index,
construction, validation). We measure the expanded size on the composed graph, memoised per
node so the check itself stays linear, and refuse a document over the budget before any walk.
"""

from __future__ import annotations

import yaml

__all__ = [
    "MAX_EXPANDED_NODES",
    "AliasBudgetError",
    "check_alias_budget",
    "expanded_size",
]

#: Far above any curated file (the largest expands to about 1,000 nodes) and far below harm.
MAX_EXPANDED_NODES = 200_000


class AliasBudgetError(yaml.YAMLError):
    """The document's aliases expand beyond :data:`MAX_EXPANDED_NODES`."""


def expanded_size(root: yaml.Node) -> int:
    """Number of nodes ``root`` stands for once every alias is expanded (memoised, iterative)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if children_done or not children:
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 1) for c in children)
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_alias_budget(node: yaml.Node, limit: int = MAX_EXPANDED_NODES) -> None:
    """Raise :class:`AliasBudgetError` when ``node`` expands beyond ``limit`` nodes."""
    size = expanded_size(node)
    if size > limit:
        raise AliasBudgetError(
            f"YAML aliases expand to {size:,} nodes (limit {limit:,}); refusing an alias bomb"
        )
