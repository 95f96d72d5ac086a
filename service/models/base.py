"""Declarative base and shared column helpers."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, MetaData, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

from indexer.messages import Listing, Message, dumps, loads

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True)}


class MessageText(TypeDecorator[Message | Listing | str]):
    """A user-facing message kept for later display (why a page or file failed): stored as
    its id and parameters in JSON text, so it is translated when shown; text written before
    messages had ids reads back as it was stored."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Message | Listing | str | None,
                           dialect: Dialect) -> str | None:
        return dumps(value) if isinstance(value, Message | Listing) else value

    def process_result_value(self, value: str | None,
                             dialect: Dialect) -> Message | Listing | str | None:
        return loads(value)
