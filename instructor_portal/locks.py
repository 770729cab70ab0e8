"""Units of work, and the row locks taken inside them in one sorted order (pretix's ``lock_objects``).

A service that changes places, vouchers or bookings runs in one ``unit_of_work`` and takes its
locks through ``lock``, all in one call where it can. Locks are sorted by table (vouchers,
then courses, then bookings) and by id, so two transactions never wait for each other in
opposite orders; asking for a lock that sorts before one already held is a bug and raises
at once instead of deadlocking one day in production. A lock waits at most
DATABASE_LOCK_TIMEOUT seconds (PostgreSQL's ``lock_timeout``, SQLite's busy timeout); the
error handlers turn the timeout into a friendly "busy" page.

No network call may run while the transaction holds a lock or has written anything (on
SQLite one write holds the whole database): ``check_no_locks_held`` guards every call out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select, text
from sqlalchemy.orm import ORMExecuteState, Session

from instructor_portal.extensions import db

log = logging.getLogger(__name__)

#: Tables in the order their rows are locked; within a table, rows are locked by id.
LOCK_ORDER = ("vouchers", "courses", "bookings")

_IN_WORK = "unit_of_work"
_HELD = "locks_held"
_WROTE = "wrote"

LockKey = tuple[int, int]


class LockOrderError(RuntimeError):
    """A lock was asked for after one that sorts later; take every lock in one call, in order."""


class OutsideUnitOfWork(RuntimeError):
    """Locks end with their transaction, so they are taken only inside a unit of work."""


class LocksHeld(RuntimeError):
    """A network call was about to run while this transaction holds database locks."""


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Run the block as one transaction: commit at its end, roll back if anything in it raises.

    Inside another unit of work it joins that one, so a public service may call another and
    the outermost call still commits once.
    """
    session = db.session
    if session.info.get(_IN_WORK):
        yield
        return
    session.info[_IN_WORK] = True
    try:
        yield
        session.commit()
    except BaseException:
        try:
            session.rollback()
        except Exception:  # the database went away; the original error says more
            log.warning("Rollback failed", exc_info=True)
        raise
    finally:
        session.info.pop(_IN_WORK, None)


def _key(row) -> LockKey:
    """Turn a model instance, or a (model class, id) pair, into its place in the lock order."""
    model, ident = (row[0], row[1]) if isinstance(row, tuple) else (type(row), row.id)
    if ident is None:
        raise ValueError(f"cannot lock an unsaved {model.__name__}; flush it first")
    return LOCK_ORDER.index(model.__tablename__), int(ident)


def _describe(key: LockKey) -> str:
    return f"{LOCK_ORDER[key[0]]} {key[1]}"


def lock(*rows) -> None:
    """Lock these rows (model instances or (model, id) pairs) until the transaction ends; rows already held are skipped.

    The session's copies of the rows are reloaded once locked, so what the caller reads next
    is what the next holder of the lock will see.
    """
    session = db.session
    if not session.info.get(_IN_WORK):
        raise OutsideUnitOfWork("lock() runs inside a unit_of_work(), so its locks end with that transaction")
    held: set[LockKey] = session.info.setdefault(_HELD, set())
    models = {
        LOCK_ORDER.index(model.__tablename__): model
        for model in (r[0] if isinstance(r, tuple) else type(r) for r in rows)
    }
    wanted = sorted({_key(row) for row in rows} - held)
    if not wanted:
        return
    if held and wanted[0] < max(held):
        raise LockOrderError(
            f"{_describe(wanted[0])} was asked for after {_describe(max(held))}; lock them together, in order"
        )
    _acquire(session, wanted, models, first=not held)
    held.update(wanted)


def _acquire(session, wanted: list[LockKey], models: dict, *, first: bool) -> None:
    if first and session.get_bind().dialect.name == "sqlite" and not session.info.get(_WROTE):
        # SQLite has one lock, the database's: the first write of a transaction takes it. (Every
        # locked table has updated_at; writing it to itself changes nothing and checks no keys.)
        table, ident = LOCK_ORDER[wanted[0][0]], wanted[0][1]
        session.execute(text(f"UPDATE {table} SET updated_at = updated_at WHERE id = :id"), {"id": ident})
    for rank in sorted({rank for rank, _ in wanted}):
        model = models[rank]
        ids = [ident for r, ident in wanted if r == rank]
        # FOR UPDATE (nothing on SQLite) locks in id order, and the rows read replace the session's copies.
        session.scalars(
            select(model)
            .where(model.id.in_(ids))
            .order_by(model.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()


def holds(row) -> bool:
    """Say whether this transaction holds the row's lock."""
    return _key(row) in db.session.info.get(_HELD, ())


def check_no_locks_held(call: str) -> None:
    """Refuse to make the network call ``call`` while this transaction holds locks or has written."""
    info = db.session.info
    if info.get(_HELD) or info.get(_WROTE):
        raise LocksHeld(f"{call} would wait on the network while holding database locks; commit first")


def _note_write(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def _note_flush(session: Session, _context) -> None:
    session.info[_WROTE] = True


def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction ended, not a savepoint inside it
        session.info.pop(_HELD, None)
        session.info.pop(_WROTE, None)


LISTENERS = [("do_orm_execute", _note_write), ("after_flush", _note_flush), ("after_transaction_end", _forget)]


def watch_transactions() -> None:
    """Keep track of the locks and writes of each transaction, forgetting them when it ends."""
    for name, listener in LISTENERS:
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
