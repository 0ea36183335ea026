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
