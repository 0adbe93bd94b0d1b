"""Glue's field paths: `a.b` names field b inside struct a; back-quotes make one name of text
holding dots or spaces.

Glue Studio writes both forms into generated code: the "Renamed keys for Join" node maps a field
to `` `(right) serialNumber` ``, and a Join of two frames sharing a field name leaves a field
called `.serialNumber`, which DropFields then names as `` `.serialNumber` ``. The quotes are part
of how a path is written, never of the name.
"""

from __future__ import annotations


class PathError(ValueError):
    """A field path that cannot be read (an unclosed back-quote, an empty part)."""


def parse(path: str) -> tuple[str, ...]:
    """The names along a path: `a.b` -> (a, b); `` `x.y`.z `` -> (x.y, z); `` `.serialNumber` ``
    -> (.serialNumber,)."""
    if not isinstance(path, str):
        raise PathError(f"a field path is a string, not {path!r}")
    names: list[str] = []
    current: list[str] = []
    quoted = False
    closed = False  # the current part was a back-quoted name: only a dot may follow
    for char in path:
        if char == "`":
            if quoted:
                quoted, closed = False, True
            elif current or closed:
                raise PathError(f"field path {path!r}: a back-quote may only open a part")
            else:
                quoted = True
        elif char == "." and not quoted:
            names.append(_part(current, closed, path))
            current, closed = [], False
        else:
            if closed:
                raise PathError(f"field path {path!r}: only a dot may follow a back-quoted name")
            current.append(char)
    if quoted:
        raise PathError(f"field path {path!r}: the back-quote is never closed")
    names.append(_part(current, closed, path))
    return tuple(names)


def _part(chars: list[str], quoted: bool, path: str) -> str:
    name = "".join(chars)
    if not name and not quoted:
        raise PathError(f"field path {path!r} has an empty part")
    return name


def top_level(path: str) -> str:
    """The one name of a path that must name a top-level field."""
    names = parse(path)
    if len(names) != 1:
        raise PathError(f"field path {path!r} names a nested field; a top-level field is needed here")
    return names[0]


def render(names: tuple[str, ...] | list[str]) -> str:
    """A path written as Glue reads it: a name holding a dot or a back-quote is back-quoted."""
    return ".".join(f"`{n}`" if ("." in n or "`" in n or not n) else n for n in names)


def quote_sql(name: str) -> str:
    """A name as a Spark SQL identifier (back-quoted, back-quotes doubled)."""
    return "`" + name.replace("`", "``") + "`"
