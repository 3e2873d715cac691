"""Task families, looked up by the name a task spec gives.

Each module in this package defines one :class:`~benchmark.families.base.Family` and
registers it; adding a family is adding a module (or calling :func:`register` from
anywhere, as a test does). Nothing outside this package knows a family's name.
"""

from __future__ import annotations

from benchmark.errors import BenchError
from benchmark.families.base import EvalOutput, Family, TaskContext

__all__ = ["EvalOutput", "Family", "TaskContext", "family_for", "register", "registered"]

_FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    """Make ``family`` available to task specs that name it; returns it unchanged."""
    if not isinstance(family, Family):
        raise TypeError(f"{family!r} does not implement the Family protocol")
    _FAMILIES[family.name] = family
    return family


def registered() -> dict[str, Family]:
    """Every family by name: the built-in ones and any registered since."""
    from benchmark.families import (  # noqa: F401  (importing registers them)
        extractive_qa,
        sequence_classification,
        token_classification,
    )

    return dict(_FAMILIES)


def family_for(name: str) -> Family:
    """The family a task spec names; an error listing the known ones otherwise."""
    families = registered()
    if name not in families:
        raise BenchError(f"unknown task family {name!r}: registered are {', '.join(families)}")
    return families[name]
