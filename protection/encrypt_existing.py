"""Encrypting values stored in clear, in place, in a table and in its change history: for the
data migrations that turn a clear field into an encrypted one. Blanking would not do: a blanked
value survives in the history, and the history must not keep a clear copy either."""

from __future__ import annotations

from collections.abc import Iterable

from protection.keys import CIPHERTEXT_PREFIX, Erased, decrypt_text, encrypt_text
from protection.models import DataKey

# Rows read and rewritten at a time: a large table is converted without holding it in memory.
BATCH_SIZE = 2000


def lift_triggers(schema_editor, tables: Iterable[str]) -> None:
    """Let this transaction's statements through the tables' triggers (pgtrigger's ignore): the
    history's append-only guard, and the history triggers, which would otherwise record the
    conversion as a change nobody made. Encrypting a value changes no fact; the conversion is
    the migration's own."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'pgtrigger_%%'"
            " AND tgrelid = ANY(%s::regclass[])",
            [list(tables)],
        )
        names = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            "SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(names) + "}"]
        )


def restore_triggers(schema_editor) -> None:
    """The triggers in force again. Deferred ones queued by the conversion run now, while still
    lifted: pending trigger events would refuse the migration's next ALTER TABLE."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")


def encrypt_columns(
    schema_editor,
    *,
    table: str,
    key: str,
    columns: Iterable[str],
    required: Iterable[str] = (),
) -> int:
    """Encrypt the clear values of `columns` of every row of `table`, each under the data key
    that the SQL expression `key` gives for the row (`row.` names the row), e.g.
    "row.data_key_id" or "(SELECT data_key_id FROM cases_case WHERE id = row.case_id)".

    Blank values become NULL, except in `required` columns; values already encrypted stay.
    A row whose key is already destroyed (an erased case) gets an unreadable value that reads
    as erased: nothing remains of the clear text. Returns how many rows changed.

    The table and column names are the migration's own constants, never input.
    """
    columns = list(columns)
    required = set(required)
    pk = _primary_key(schema_editor, table)
    destroyed = set(DataKey.objects.filter(wrapped_key__isnull=True).values_list("pk", flat=True))
    select = (
        f"SELECT row.{pk}, {key}, {', '.join(f'row.{c}' for c in columns)}"  # noqa: S608  # nosec B608
        f" FROM {table} AS row"
        f" WHERE ({' OR '.join(f'row.{c} IS NOT NULL' for c in columns)})"
    )
    count = 0
    for batch in _batches(schema_editor, select=select, pk=f"row.{pk}"):
        changed = []
        for row_pk, key_id, *values in batch:
            new_values = [
                _encrypted(value, key_id, destroyed, required=column in required)
                for column, value in zip(columns, values, strict=True)
            ]
            if new_values != values:
                changed.append([*new_values, row_pk])
        _update(schema_editor, table=table, pk=pk, columns=columns, rows=changed)
        count += len(changed)
    return count


def _batches(schema_editor, *, select: str, pk: str, size: int = BATCH_SIZE):
    """The rows of `select` (whose first column is the primary key `pk`), a batch at a time in
    primary-key order: a large table is never held in memory at once."""
    last = None
    while True:
        with schema_editor.connection.cursor() as cursor:
            if last is None:
                cursor.execute(f"{select} ORDER BY {pk} LIMIT %s", [size])
            else:
                cursor.execute(f"{select} AND {pk} > %s ORDER BY {pk} LIMIT %s", [last, size])
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1][0]


def _update(schema_editor, *, table: str, pk: str, columns: list[str], rows: list[list]) -> None:
    if not rows:
        return
    assignments = ", ".join(f"{column} = %s" for column in columns)
    with schema_editor.connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608  # nosec B608
            rows,
        )


def _primary_key(schema_editor, table: str) -> str:
    """pgh_id for a history table, id for the others."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s"
            " AND column_name = 'pgh_id'",
            [table],
        )
        return "pgh_id" if cursor.fetchone() else "id"


def _encrypted(value, key_id: int | None, destroyed: set[int], *, required: bool):
    if value is None:
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text.startswith(CIPHERTEXT_PREFIX):
        return text
    if text == "" and not required:
        return None
    if key_id is None or key_id in destroyed:
        # The case is erased (or, for a history copy, deleted): its text goes with it.
        return f"{CIPHERTEXT_PREFIX}{key_id or 0}:erased"
    return encrypt_text(text, data_key_id=key_id)


def decrypt_columns(
    schema_editor, *, table: str, columns: Iterable[str], nullable: Iterable[str] = ()
) -> None:
    """Going back: the clear values of `columns` again. An erased value becomes "[erased]"
    (NULL in `nullable` columns, which are also left NULL); other NULLs become blank, as the
    clear fields had them."""
    columns = list(columns)
    nullable = set(nullable)
    pk = _primary_key(schema_editor, table)
    select = f"SELECT {pk}, {', '.join(columns)} FROM {table} WHERE TRUE"  # noqa: S608  # nosec B608
    for batch in _batches(schema_editor, select=select, pk=pk):
        changed = []
        for row_pk, *values in batch:
            new_values = []
            for column, value in zip(columns, values, strict=True):
                if value is not None and value.startswith(CIPHERTEXT_PREFIX):
                    value = decrypt_text(value)
                    if isinstance(value, Erased):  # says so, rather than a blank
                        value = None if column in nullable else str(value)
                if column in nullable:
                    value = value or None
                elif value is None:
                    value = ""
                new_values.append(value)
            if new_values != values:
                changed.append([*new_values, row_pk])
        _update(schema_editor, table=table, pk=pk, columns=columns, rows=changed)
