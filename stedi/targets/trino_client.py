"""One statement on a Trino server through the `trino` client (DB-API): the native Trino of the
embedded stack and the Docker stack's Trino are both reached this way."""

from __future__ import annotations


class TrinoFailed(RuntimeError):
    """Trino refused or failed the statement; the message is Trino's own, on one line."""


def execute(connection: dict, sql: str) -> tuple[list[str], list[str], list[tuple]]:
    """Run `sql` with `trino.dbapi.connect(**connection)`: (column names, Trino types, rows)."""
    import trino

    try:
        with trino.dbapi.connect(**connection) as conn:
            cursor = conn.cursor()
            cursor.execute(sql)
            rows = [tuple(row) for row in cursor.fetchall()]
            description = cursor.description or []
    except trino.exceptions.TrinoQueryError as error:
        raise TrinoFailed(f"Trino: {error.message} ({error.error_name})") from None
    except trino.exceptions.TrinoConnectionError as error:
        raise TrinoFailed(f"Trino at {connection['host']}:{connection['port']} did not answer ({error})") from None
    return [d[0] for d in description], [d[1] for d in description], rows
