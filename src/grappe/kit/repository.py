"""The repository base of the operational domains: get or not found, paging, version check.

A domain's repository holds all of its SQL; values always reach the database as bound
parameters (SQLAlchemy expressions or :func:`sqlalchemy.bindparam`), never pasted into text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from grappe.errors import ConflictError, InputError, NotFoundError
from grappe.kit.unit import flush

M = TypeVar("M")

#: The largest page a list answers.
MAX_PAGE = 500


def not_found(what: str, key: object) -> NotFoundError:
    """The one "not found" error users read: ``{what} {key} introuvable``."""
    return NotFoundError(f"{what} {key} introuvable")


def check_page(limit: int, offset: int) -> None:
    """A page is 1 to :data:`MAX_PAGE` rows from a non-negative offset."""
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"limit={limit} : attendu entre 1 et {MAX_PAGE}")
    if offset < 0:
        raise InputError(f"offset={offset} : attendu positif ou nul")


def check_version(what: str, object_id: int, read: int, current: int) -> None:
    """Optimistic locking for clients: the version they read must still be the current one."""
    if read != current:
        raise ConflictError(
            f"{what} {object_id} modifié(e) entre-temps (version lue {read}, "
            f"version actuelle {current}) : relisez puis recommencez"
        )


class Repository(Generic[M]):
    """The SQL of one model of a domain, on the session of the caller's unit of work.

    Subclasses set :attr:`model`, :attr:`what` (how users name it, in French) and, when a
    constraint of theirs deserves its own message, :attr:`refusals`; they add the domain's
    named queries and predicates.
    """

    model: type[M]
    what: ClassVar[str]
    #: Word of a database refusal (a constraint's name) -> the French message users read.
    refusals: ClassVar[Mapping[str, str]] = {}

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, object_id: int, *options: ORMOption, lock: bool = False) -> M:
        """The object of an id, loaded with ``options``; NotFoundError when there is none.

        ``lock``: PostgreSQL keeps the row locked until the transaction ends, and a writer
        waiting for it reads it again once it may go on (SQLite takes no row lock; there, the
        version check of the write fails the later of two racers).
        """
        if not options and not lock:
            found = self.session.get(self.model, object_id)
        else:
            query = select(self.model).where(self._key() == object_id).options(*options)
            if lock:
                query = query.with_for_update().execution_options(populate_existing=True)
            found = self.session.scalar(query)
        if found is None:
            raise not_found(self.what, object_id)
        return found

    def add(self, obj: M) -> M:
        self.session.add(obj)
        return obj

    def flush(self) -> None:
        """Write pending changes now, this model's refusals named (see :attr:`refusals`)."""
        flush(self.session, self.refusals)

    def check_version(self, obj: Any, read: int) -> None:
        """The version a client read of ``obj`` must still be its current one."""
        check_version(self.what, obj.id, read, obj.version)

    def page(self, query: Select[Any], limit: int, offset: int) -> tuple[int, Sequence[M]]:
        """How many objects ``query`` selects in all, and the page ``limit``/``offset`` of them."""
        check_page(limit, offset)
        total = self.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = self.session.scalars(query.limit(limit).offset(offset)).all()
        return total or 0, rows

    def _key(self) -> Any:
        return inspect(self.model).primary_key[0]
