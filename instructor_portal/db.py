"""Declarative base, shared column types and mixins, and database connection settings."""

from datetime import UTC, datetime
from enum import StrEnum

from flask import abort
from sqlalchemy import DateTime, Enum, MetaData, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry
from sqlalchemy.types import TypeDecorator
from werkzeug.routing import IntegerConverter

from instructor_portal.clock import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: The largest id an INTEGER primary key holds on PostgreSQL; larger ones overflow SQLite's driver.
MAX_ID = 2**31 - 1


class UTCDateTime(TypeDecorator):
    """Store datetimes as naive UTC and hand them back timezone-aware, on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def str_enum(enum_cls: type[StrEnum], name: str) -> Enum:
    """A portable enum column: a VARCHAR of the member values plus a CHECK constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION), type_annotation_map={datetime: UTCDateTime()}
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    """Enforce foreign keys on SQLite."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def engine_options(url: str, options: dict, *, lock_timeout: float) -> dict:
    """The engine options with every wait for a lock, or for PostgreSQL to answer, bounded by ``lock_timeout`` seconds."""
    connect_args = dict(options.get("connect_args", {}))
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        connect_args.setdefault("options", f"-c lock_timeout={round(lock_timeout * 1000)}")
        connect_args.setdefault("connect_timeout", max(round(lock_timeout), 2))
    elif backend == "sqlite":
        connect_args.setdefault("timeout", lock_timeout)  # SQLite's busy timeout
    return {**options, "connect_args": connect_args}


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` in every route: a number too large for any row's id matches no route, so it is a 404 like any unknown id."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def get_or_404(model, ident: int):
    """Load a row by primary key or answer 404, also for an id typed too large for any row."""
    from instructor_portal.extensions import db

    row = db.session.get(model, ident) if 0 < ident <= MAX_ID else None
    if row is None:
        abort(404)
    return row
