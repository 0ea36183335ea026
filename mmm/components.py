"""What adstock and saturation components share: rebuilding one from its ``to_dict`` output."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


def component_from_dict(registry: dict[str, type[T]], what: str, data: dict[str, Any]) -> T:
    """Rebuild the component named by ``data["kind"]`` (JSON lists become the tuples the classes expect)."""
    fields = dict(data)
    kind = fields.pop("kind", None)
    if kind not in registry:
        raise ValueError(f"{what} kind must be one of {list(registry)}; got {kind!r}")
    return registry[kind](**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})


def register(registry: dict[str, type[T]], what: str, cls: type[T]) -> None:
    """Add ``cls`` to ``registry`` under its ``kind`` (abstract bases without a kind are skipped).

    A second class under a kind already taken by another class is an error: saved specs name components by kind.
    """
    kind = getattr(cls, "kind", "")
    if not kind:
        return
    taken = registry.get(kind)
    if taken is not None and (taken.__module__, taken.__qualname__) != (cls.__module__, cls.__qualname__):
        raise ValueError(f"{what} kind {kind!r} is already taken by {taken.__module__}.{taken.__qualname__}")
    registry[kind] = cls
