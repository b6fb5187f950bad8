"""``?fields=``: Magento trims a response to the fields asked for (DOCS
``rest/use-rest/retrieve-filtered-responses.md``; reference magento-api.md section 2).

``fields=items[sku,extension_attributes[configurable_product_links]],total_count`` keeps, at each
level, only the keys named; a list is trimmed element by element; a key named without brackets
keeps its whole value; names that the response lacks are ignored. Assumed: a value whose brackets
do not balance trims nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FieldTree", "parse_fields", "trim"]

#: name -> what to keep of its value (empty: all of it)
FieldTree = dict[str, "FieldTree"]


def parse_fields(spec: str) -> FieldTree | None:
    """``a,b[c,d[e]]`` -> ``{"a": {}, "b": {"c": {}, "d": {"e": {}}}}``; None if it does not parse."""
    root: FieldTree = {}
    stack = [root]
    name = ""
    for char in spec:
        if char in ",[]":
            name = name.strip()
            if char == "[":
                if not name:
                    return None
                stack.append(stack[-1].setdefault(name, {}))
            elif name:
                stack[-1].setdefault(name, {})
            if char == "]":
                if len(stack) == 1:
                    return None
                stack.pop()
            name = ""
        else:
            name += char
    if name.strip():
        stack[-1].setdefault(name.strip(), {})
    return root if len(stack) == 1 and root else None


def trim(data: Any, tree: FieldTree) -> Any:
    """``data`` (plain JSON values) keeping only what ``tree`` names."""
    if isinstance(data, list):
        return [trim(element, tree) for element in data]
    if isinstance(data, dict):
        return {key: trim(value, tree[key]) if tree[key] else value for key, value in data.items() if key in tree}
    return data
