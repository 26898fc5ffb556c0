"""The duplicate levels, in one table: the only place outside a level's own module that names it.

Levels are listed from the closest to the loosest; a run decides them in this order, and a
document dropped by one is not looked at by the next. Each module ends with ``LEVEL = Level(...)``
(:class:`retold.dedup.level.Level`). A level from elsewhere (a plugin, a test) joins with
:func:`register`; the reason codes of ``Decisions`` follow the order of registration.

>>> [level.name for level in levels()][:3]
['exact', 'near', 'retold']
"""

from __future__ import annotations

import importlib
from typing import Any

from retold.dedup.clusters import add_reason
from retold.dedup.level import Level
from retold.errors import BadOption
from retold.options import Option, options_of

#: The built-in levels' modules, closest level first.
BUILTIN = ("retold.dedup.exact", "retold.dedup.near", "retold.dedup.semantic")

_LEVELS: dict[str, Level] = {}


def option_table_of(lv: Level) -> list[tuple[str, Option]]:
    """(option name, option) of a level: ``near_threshold`` for NearOptions.threshold."""
    return [(opt.name, opt) for _, opt in options_of(lv.options)]


def register(level: Level) -> Level:
    """Add ``level`` after the levels already registered (again: replaced in place)."""
    for name, opt in options_of(level.options):
        for other in _LEVELS.values():
            if other.name != level.name and opt.name in dict(option_table_of(other)):
                raise ValueError(
                    f"level {level.name}: option {opt.name} ({name}) is already level {other.name}'s"
                )
    _LEVELS[level.name] = level
    add_reason(level.name)
    return level


def unregister(name: str) -> None:
    """Remove a level registered from outside (a test's); built-in levels stay."""
    if name in _LEVELS and name not in BUILTIN_NAMES:
        del _LEVELS[name]


for _module in BUILTIN:
    register(importlib.import_module(_module).LEVEL)
BUILTIN_NAMES = frozenset(_LEVELS)


def levels() -> list[Level]:
    """Every level, closest first."""
    return list(_LEVELS.values())


def level(name: str) -> Level:
    return _LEVELS[name]


def level_options() -> dict[str, Option]:
    """Every level's options by their option name."""
    return {name: opt for lv in levels() for name, opt in option_table_of(lv)}


def default_levels() -> tuple[str, ...]:
    return tuple(lv.name for lv in levels() if lv.on)


def default_drop(detected: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(lv.name for lv in levels() if lv.drops and lv.name in detected)


def parse_levels(value: str | tuple[str, ...] | list[str] | None, what: str) -> tuple[str, ...] | None:
    """``"exact,near"`` or ``["exact", "near"]`` → ``("exact", "near")``, every name a level
    (else a usage error naming the levels there are); None stays None.

    >>> parse_levels("exact, near", "--levels")
    ('exact', 'near')
    """
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(dict.fromkeys(str(i).strip() for i in items if str(i).strip()))
    for name in names:
        if name not in _LEVELS:
            import difflib

            close = difflib.get_close_matches(name, list(_LEVELS), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise BadOption(f"unknown level {name!r} in {what}{hint}; the levels are {', '.join(_LEVELS)}")
    return names


def options_for(name: str, values: dict[str, Any]) -> Any:
    """Level ``name``'s options dataclass from option values by option name (missing: default)."""
    lv = _LEVELS[name]
    fields = {field: values[opt.name] for field, opt in options_of(lv.options) if opt.name in values}
    try:
        return lv.options(**fields)
    except ValueError as exc:
        raise BadOption(str(exc)) from None
