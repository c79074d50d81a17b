"""The audit hook: every ORM write of a unit of work is recorded (who, when, entity, before, after).

:func:`install` names the model that receives the entries; from then on each flush of any
session writes one entry per created, updated or deleted object, with the acting user of
the unit (``session.info["actor"]``: an object with ``label`` and ``user_id``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, UOWTransaction

from grappe.kit.unit import actor_of

#: Columns never copied into the log (secrets).
REDACTED = frozenset({"token_hash", "password_hash"})

_installed: list[type[Any]] = []


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _state(obj: Any, *, before: bool) -> dict[str, Any]:
    """Column values of an object, as they were before the flush or as they are now."""
    insp = inspect(obj)
    values: dict[str, Any] = {}
    for attr in insp.mapper.column_attrs:
        key = attr.key
        if key in REDACTED:
            values[key] = "***"
            continue
        history = insp.attrs[key].history
        if before and history.deleted:
            value = history.deleted[0]
        elif before and history.added:
            value = None  # the attribute was unset before this flush
        else:
            value = insp.attrs[key].value
        values[key] = _plain(value)
    return values


def _entry(obj: Any, action: str, actor: Any) -> dict[str, Any]:
    before = None if action == "create" else _state(obj, before=True)
    after = None if action == "delete" else _state(obj, before=False)
    if action == "update" and before is not None and after is not None:
        changed = {k for k in after if before.get(k) != after.get(k)}
        before = {k: before[k] for k in sorted(changed)}
        after = {k: after[k] for k in sorted(changed)}
    insp = inspect(obj)
    # a created row has no identity key before the flush ends: its primary key is set already
    identity = insp.identity or tuple(insp.mapper.primary_key_from_instance(obj))
    cluster_id = getattr(obj, "cluster_id", None)
    if cluster_id is None and obj.__tablename__ == "clusters":
        cluster_id = obj.id
    return {
        "at": dt.datetime.now(dt.UTC),
        "actor": actor.label if actor else "system",
        "user_id": actor.user_id if actor else None,
        "action": action,
        "entity": obj.__tablename__,
        "entity_id": ",".join(str(v) for v in identity) if None not in identity else None,
        "cluster_id": cluster_id,
        "before": before,
        "after": after,
    }


def _record(session: Session, _flush: UOWTransaction) -> None:
    """Write one audit row per created, updated or deleted object of this flush."""
    (entry_model,) = _installed
    actor = actor_of(session)
    rows: list[dict[str, Any]] = []
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if isinstance(obj, entry_model) or not hasattr(obj, "__tablename__"):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            entry = _entry(obj, action, actor)
            if action == "update" and not entry["after"]:
                continue
            rows.append(entry)
    if rows:
        session.connection().execute(insert(entry_model), rows)


def install(entry_model: type[Any]) -> None:
    """Record every ORM write into ``entry_model`` (once per process; a second call is a no-op)."""
    if _installed:
        return
    _installed.append(entry_model)
    event.listen(Session, "after_flush", _record)
