"""The base of the registry's schemas (pydantic): strict inputs, their stored form, shared field types.

Each sub-domain has its own ``schemas`` module built on these; the CLI and the API share them.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import types
from collections.abc import Sequence
from typing import Annotated, Any, Generic, Self, TypeVar, Union, cast, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, create_model

from grappe.kit.repository import check_page
from grappe.registry.bounds import PAST, PLANNED, Dated, Text
from grappe.registry.models import (
    Funder,
)

# Every field users send is bounded by its column (grappe.registry.bounds); the test
# tests/registry/test_bounds.py walks the request bodies and fails on a field left unbounded.
FunderName = Annotated[str, Text(Funder.name)]
#: Dates of what has happened (memberships, payments) and of periods planned ahead.
PastDate = Annotated[dt.date, Dated(PAST)]
PlannedDate = Annotated[dt.date, Dated(PLANNED)]
#: An identifier as typed: SIREN or SIRET with spaces or dots, normalised before it is stored.
TypedIdentifier = Annotated[str, Text(max_length=20)]
#: What an e-mail address looks like (users, contacts).
EMAIL = r"^[^@\s]+@[^@\s]+$"


class Schema(BaseModel):
    """Base of every schema: unknown fields are errors, ORM objects are read by attribute."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


T = TypeVar("T")


class Page(Schema, Generic[T]):
    """The one shape of every list the API answers: how many items in all, and one page of them."""

    total: int
    items: list[T]

    @classmethod
    def of(cls, items: Sequence[T], limit: int, offset: int) -> Self:
        """The page ``limit``/``offset`` of a list computed whole (statuses known only in Python)."""
        check_page(limit, offset)
        return cls(total=len(items), items=list(items[offset : offset + limit]))


S = TypeVar("S", bound=BaseModel)
_STORED: dict[type[BaseModel], type[BaseModel]] = {}


def _unbounded(annotation: Any) -> Any:
    """A field's type without its constraints; nested schemas replaced by their stored form."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unbounded(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return functools.reduce(operator.or_, map(_unbounded, get_args(annotation)))
    if origin is list:
        return list[_unbounded(get_args(annotation)[0])]  # type: ignore[misc]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return stored(annotation)
    return annotation


def stored(model: type[S]) -> type[S]:
    """An input schema as outputs carry it: the same fields and defaults, no bound checked.

    What is read back was valid when it was written, but the bounds move (a date rule
    tightened, a column's length) and older versions or SQL wrote rows outside today's
    bounds; validating them again on the way out would answer 500 for stored data. The
    bounds are written once on the input schema; this derives its output form.
    """
    if model not in _STORED:
        fields: dict[str, Any] = {
            name: (_unbounded(info.annotation),
                   Field(default_factory=info.default_factory) if info.default_factory
                   else Field(default=info.default))
            for name, info in model.model_fields.items()
        }
        _STORED[model] = create_model(
            model.__name__.removesuffix("In") + "Stored",
            __base__=Schema, __doc__=model.__doc__, __module__=__name__, **fields,
        )
    return cast("type[S]", _STORED[model])
