"""Envelope encryption of protected fields: what the database, backups, history and logs hold,
blind-index look-ups, key rotation and crypto-erasure."""

from __future__ import annotations

import base64
import datetime
import io
import json
import logging

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django import forms
from django.core import serializers
from django.core.exceptions import FieldError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from protection import keys, redaction
from protection.blind_indexes import blind_index_filter
from protection.erasure import destroy_data_key
from protection.keys import ProtectedValueError, create_data_key, data_key_cache, unwrap_key
from protection.logs import RedactProtectedValuesFilter
from protection.masks import mask
from protection.models import DataKey
from tests.factories import ProtectedRecordFactory
from tests.protected_app.models import ProtectedRecord

pytestmark = pytest.mark.django_db

NAME = "Thura Aung"
SERVICE_NUMBER = "MA12345"
BIRTH_DATE = datetime.date(1991, 3, 14)
PLAINTEXTS = (NAME, SERVICE_NUMBER, BIRTH_DATE.isoformat())


def stored_values(record_id: int, table: str = "protected_app_protectedrecord") -> tuple:
    """What PostgreSQL holds in the encrypted columns of one row, read without the ORM."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT real_name, service_number, date_of_birth FROM {table} WHERE id = %s",  # noqa: S608
            [record_id],
        )
        return cursor.fetchone()


def find_by_service_number(number: str) -> list[ProtectedRecord]:
    return list(
        ProtectedRecord.objects.filter(
            blind_index_filter(ProtectedRecord, "service_number", number)
        )
    )


def use_master_keys(settings, *keys: str) -> None:
    settings.HAVEN_FIELD_KEYS = list(keys)
    # Unwrapped data keys are cached; a process restarted with new keys starts without them.
    data_key_cache.clear()


def rotate_keys(*args: str) -> str:
    output = io.StringIO()
    call_command("rotate_keys", *args, stdout=output)
    return output.getvalue()


@pytest.fixture
def record() -> ProtectedRecord:
    return ProtectedRecordFactory(
        real_name=NAME, service_number=SERVICE_NUMBER, date_of_birth=BIRTH_DATE
    )


# --- what the database holds -----------------------------------------------------------------


def test_database_holds_only_ciphertext_and_the_orm_reads_plaintext(record):
    stored = stored_values(record.pk)

    for value in stored:
        assert value.startswith(f"hv1:{record.data_key_id}:")
        for plaintext in PLAINTEXTS:
            assert plaintext not in value
    assert len(set(stored)) == 3

    fresh = ProtectedRecord.objects.get(pk=record.pk)
    assert fresh.real_name == NAME
    assert fresh.service_number == SERVICE_NUMBER
    assert fresh.date_of_birth == BIRTH_DATE


def test_data_key_row_holds_the_key_only_wrapped(record):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT wrapped_key FROM accounts_datakey WHERE id = %s", [record.data_key_id]
        )
        wrapped = bytes(cursor.fetchone()[0])
    raw_key = unwrap_key(wrapped)
    token = stored_values(record.pk)[0].rsplit(":", 1)[1].encode()

    # The unwrapped key really is the one the values are encrypted with...
    assert Fernet(raw_key).decrypt(token).decode() == NAME
    # ...and neither it nor its 32 secret bytes are in the stored row.
    assert wrapped != raw_key
    assert raw_key not in wrapped
    assert base64.urlsafe_b64decode(raw_key) not in wrapped
    # The master key alone does not open a value: it only wraps data keys.
    with pytest.raises(InvalidToken):
        keys.master_keys()[0].decrypt(token)


def test_null_protected_values_are_stored_as_null():
    record = ProtectedRecordFactory(service_number=None, date_of_birth=None)

    _, service_number, date_of_birth = stored_values(record.pk)

    assert service_number is None
    assert date_of_birth is None
    assert ProtectedRecord.objects.get(pk=record.pk).service_number is None


# --- blind index -----------------------------------------------------------------------------


def test_blind_index_finds_a_service_number_whatever_its_spacing_and_case(record):
    ProtectedRecordFactory(service_number="MA12346")

    assert find_by_service_number(" ma-12 345 ") == [record]
    assert find_by_service_number("MA12345") == [record]
    assert find_by_service_number("MA12347") == []
    assert "12345" not in record.service_number_index


@pytest.mark.parametrize(
    "lookup",
    [
        {"real_name": NAME},
        {"real_name__iexact": NAME},
        {"real_name__icontains": "Thura"},
        {"service_number__in": [SERVICE_NUMBER]},
        {"date_of_birth__gte": BIRTH_DATE},
    ],
)
def test_filtering_on_an_encrypted_field_is_refused(record, lookup):
    with pytest.raises(FieldError):
        list(ProtectedRecord.objects.filter(**lookup))


# --- saving ------------------------------------------------------------------------------------


def test_saving_an_unchanged_value_keeps_its_ciphertext(record):
    before = stored_values(record.pk)

    untouched = ProtectedRecord.objects.get(pk=record.pk)
    untouched.code = "PR-RENAMED"
    untouched.save()
    read = ProtectedRecord.objects.get(pk=record.pk)
    assert read.real_name == NAME  # decrypted, then saved unchanged
    read.save()

    assert stored_values(record.pk) == before
    assert find_by_service_number(SERVICE_NUMBER) == [record]


def test_a_changed_value_is_re_encrypted_and_its_blind_index_follows(record):
    before_name, before_number, before_date = stored_values(record.pk)

    changed = ProtectedRecord.objects.get(pk=record.pk)
    changed.real_name = "Nay Lin"
    changed.service_number = "PL-777 01"
    changed.save()

    after_name, after_number, after_date = stored_values(record.pk)
    assert after_name != before_name
    assert "Nay Lin" not in after_name
    assert after_number != before_number
    assert after_date == before_date
    fresh = ProtectedRecord.objects.get(pk=record.pk)
    assert (fresh.real_name, fresh.service_number) == ("Nay Lin", "PL-777 01")
    assert find_by_service_number(SERVICE_NUMBER) == []
    assert find_by_service_number("pl77701") == [record]


def test_clearing_a_value_clears_its_blind_index(record):
    record.service_number = None
    record.save()

    assert stored_values(record.pk)[1] is None
    assert find_by_service_number(SERVICE_NUMBER) == []


def test_encrypted_date_field_round_trips_a_date():
    from_date = ProtectedRecordFactory(date_of_birth=BIRTH_DATE)
    from_text = ProtectedRecordFactory(date_of_birth="1985-12-01")

    assert ProtectedRecord.objects.get(pk=from_date.pk).date_of_birth == BIRTH_DATE
    assert ProtectedRecord.objects.get(pk=from_text.pk).date_of_birth == datetime.date(1985, 12, 1)
    assert "1985-12-01" not in stored_values(from_text.pk)[2]


# --- masking -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["Thura Aung", "Aung", "Thurein Aungkyaw Min", "MA12345", "12", "PL-777 01", BIRTH_DATE],
)
def test_mask_hides_every_value_whole_without_initials_or_length(value):
    assert mask(value) == "*****"


def test_mask_of_no_value_and_of_an_erased_value():
    assert mask(None) == ""
    assert mask("") == ""
    assert mask(keys.ERASED) == "[erased]"


# --- serialisation (dumpdata, backups) ---------------------------------------------------------


def test_serialised_records_hold_ciphertext_not_plaintext(record):
    just_saved = record
    loaded = ProtectedRecord.objects.get(pk=record.pk)
    decrypted = ProtectedRecord.objects.get(pk=record.pk)
    assert (decrypted.real_name, decrypted.date_of_birth) == (NAME, BIRTH_DATE)

    for instance in (just_saved, loaded, decrypted):
        dumped = serializers.serialize("json", [instance])
        fields = json.loads(dumped)[0]["fields"]
        for plaintext in PLAINTEXTS:
            assert plaintext not in dumped
        assert fields["real_name"].startswith("hv1:")
        assert fields["service_number"].startswith("hv1:")
        assert fields["date_of_birth"].startswith("hv1:")

    # The backup restores: its ciphertext decrypts to the original values.
    restored = next(serializers.deserialize("json", dumped)).object
    assert (restored.real_name, restored.service_number) == (NAME, SERVICE_NUMBER)
    assert restored.date_of_birth == BIRTH_DATE


# --- crypto-erasure ----------------------------------------------------------------------------


def test_destroying_a_data_key_erases_every_value_under_it(record):
    unrelated = ProtectedRecordFactory(
        real_name="Kyaw Zin", data_key=create_data_key(purpose="test.other")
    )
    record.real_name = "Thura Aung Min"  # a second, history-tracked version
    record.save()

    destroy_data_key(record.data_key)
    data_key_cache.clear()

    erased = ProtectedRecord.objects.get(pk=record.pk)
    assert erased.real_name is keys.ERASED
    assert erased.service_number is keys.ERASED
    assert erased.date_of_birth is keys.ERASED
    assert mask(erased.real_name) == "[erased]"
    assert mask(erased.date_of_birth) == "[erased]"
    assert DataKey.objects.get(pk=record.data_key_id).wrapped_key is None
    # The erased person can no longer be found by service number either.
    assert find_by_service_number(SERVICE_NUMBER) == []
    # A record under another data key is untouched.
    assert ProtectedRecord.objects.get(pk=unrelated.pk).real_name == "Kyaw Zin"
    # Nor can the erased values be replaced under the destroyed key.
    erased.real_name = "Someone Else"
    with pytest.raises(ProtectedValueError):
        erased.save()


def test_history_rows_hold_only_ciphertext_and_are_erased_with_the_key(record):
    record.real_name = "Thura Aung Min"
    record.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT real_name, service_number, date_of_birth "
            "FROM protected_app_protectedrecordevent WHERE pgh_obj_id = %s",
            [record.pk],
        )
        history = cursor.fetchall()

    assert len(history) == 2  # insert and update
    for row in history:
        for value in row:
            assert value.startswith("hv1:")
            for plaintext in (*PLAINTEXTS, "Thura Aung Min"):
                assert plaintext not in value
    assert {event.real_name for event in record.events.all()} == {NAME, "Thura Aung Min"}

    destroy_data_key(record.data_key)
    data_key_cache.clear()

    assert {event.real_name for event in record.events.all()} == {keys.ERASED}


# --- key rotation ------------------------------------------------------------------------------


@pytest.fixture
def old_and_new_master_keys() -> tuple[str, str]:
    return Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_rotate_keys_rewraps_data_keys_without_rewriting_values(settings, old_and_new_master_keys):
    old_key, new_key = old_and_new_master_keys
    use_master_keys(settings, old_key)
    records = [
        ProtectedRecordFactory(data_key=create_data_key(purpose="test.rotation")) for _ in range(4)
    ]
    records.append(ProtectedRecordFactory())  # under the model's shared key
    destroyed = create_data_key(purpose="test.destroyed")
    destroy_data_key(destroyed)
    expected = {r.pk: (r.real_name, r.service_number, r.date_of_birth) for r in records}
    stored_before = {r.pk: stored_values(r.pk) for r in records}

    use_master_keys(settings, new_key, old_key)
    output = rotate_keys("--batch-size", "2")

    assert "Re-wrapped 5 data keys (0 already under the newest key)" in output
    assert {r.pk: stored_values(r.pk) for r in records} == stored_before
    assert DataKey.objects.get(pk=destroyed.pk).wrapped_key is None

    use_master_keys(settings, new_key)  # the old key retired
    for loaded in ProtectedRecord.objects.filter(pk__in=expected):
        assert (loaded.real_name, loaded.service_number, loaded.date_of_birth) == expected[
            loaded.pk
        ]

    use_master_keys(settings, old_key)  # a stolen copy of the old key opens nothing
    with pytest.raises(ProtectedValueError):
        _ = ProtectedRecord.objects.get(pk=records[0].pk).real_name


def test_rotate_keys_again_rewraps_nothing(settings, old_and_new_master_keys):
    old_key, new_key = old_and_new_master_keys
    use_master_keys(settings, old_key)
    ProtectedRecordFactory.create_batch(2)
    use_master_keys(settings, new_key, old_key)
    rotate_keys()
    wrapped_after_first_run = list(DataKey.objects.values_list("wrapped_key", flat=True))

    output = rotate_keys()

    assert "Re-wrapped 0 data keys (1 already under the newest key)" in output
    assert list(DataKey.objects.values_list("wrapped_key", flat=True)) == wrapped_after_first_run


def test_interrupted_rotation_fails_clearly_and_resumes(settings, old_and_new_master_keys):
    old_key, new_key = old_and_new_master_keys
    forgotten_key = Fernet.generate_key().decode()
    use_master_keys(settings, old_key)
    first_keys = [create_data_key(purpose="test.rotation") for _ in range(2)]
    use_master_keys(settings, forgotten_key)
    unreadable = create_data_key(purpose="test.rotation")
    use_master_keys(settings, old_key)
    create_data_key(purpose="test.rotation")

    use_master_keys(settings, new_key, old_key)
    with pytest.raises(CommandError, match=f"Data key #{unreadable.pk} .*cannot be unwrapped"):
        rotate_keys("--batch-size", "2")

    # The first batch was committed before the failure; the failing batch was not.
    assert all(
        keys.is_wrapped_by_newest_master_key(DataKey.objects.get(pk=key.pk).wrapped_key)
        for key in first_keys
    )
    use_master_keys(settings, new_key, old_key, forgotten_key)
    output = rotate_keys("--batch-size", "2")
    assert "Re-wrapped 2 data keys (2 already under the newest key)" in output


def test_rotate_keys_dry_run_writes_nothing(settings, old_and_new_master_keys):
    old_key, new_key = old_and_new_master_keys
    use_master_keys(settings, old_key)
    record = ProtectedRecordFactory(real_name=NAME)
    wrapped_before = bytes(DataKey.objects.get(pk=record.data_key_id).wrapped_key)

    use_master_keys(settings, new_key, old_key)
    output = rotate_keys("--dry-run")

    assert "would re-wrap 1 data keys (0 already under the newest key)" in output
    assert bytes(DataKey.objects.get(pk=record.data_key_id).wrapped_key) == wrapped_before
    use_master_keys(settings, old_key)
    assert ProtectedRecord.objects.get(pk=record.pk).real_name == NAME


def test_rotate_blind_indexes_makes_look_ups_work_after_the_index_key_changed(settings, record):
    ProtectedRecordFactory(service_number="MA55555")
    ProtectedRecordFactory(service_number=None)
    stored_before = stored_values(record.pk)
    settings.HAVEN_BLIND_INDEX_KEY = "a-new-blind-index-key-for-this-test-only"
    assert find_by_service_number(SERVICE_NUMBER) == []

    dry_run = rotate_keys("--blind-indexes", "--dry-run")
    assert "would rewrite the blind indexes of 2 rows" in dry_run
    assert find_by_service_number(SERVICE_NUMBER) == []

    output = rotate_keys("--blind-indexes", "--batch-size", "2")

    assert "Rewrote the blind indexes of 2 rows." in output
    assert find_by_service_number(" ma 12345") == [record]
    assert len(find_by_service_number("MA55555")) == 1
    assert stored_values(record.pk) == stored_before
    assert "Rewrote the blind indexes of 0 rows." in rotate_keys("--blind-indexes")


def test_rotate_keys_refuses_a_master_key_that_is_not_a_fernet_key(settings):
    settings.HAVEN_FIELD_KEYS = ["not-a-key"]

    with pytest.raises(CommandError, match="Fernet key"):
        rotate_keys()


def test_generate_keys_prints_fresh_usable_keys():
    first, second = io.StringIO(), io.StringIO()
    call_command("generate_keys", stdout=first)
    call_command("generate_keys", stdout=second)

    lines = first.getvalue().splitlines()
    master_key = lines[0].rsplit(" ", 1)[1]
    blind_index_key = lines[1].rsplit(" ", 1)[1]
    backup_key = lines[2].rsplit(" ", 1)[1]
    for key in (master_key, backup_key):
        assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
    assert backup_key != master_key
    assert len(blind_index_key) >= 64
    assert "rotate_keys" in first.getvalue()
    assert master_key not in second.getvalue()
    assert blind_index_key not in second.getvalue()
    assert backup_key not in second.getvalue()


# --- logs --------------------------------------------------------------------------------------


@pytest.fixture
def log_output():
    """Everything the project's configured log handlers write, instead of stderr."""
    project_handlers = [
        handler
        for handler in logging.getLogger().handlers
        if not type(handler).__module__.startswith("_pytest")
    ]
    assert project_handlers, "LOGGING configures no handler on the root logger"
    buffer = io.StringIO()
    previous_streams = []
    for handler in project_handlers:
        assert any(isinstance(f, RedactProtectedValuesFilter) for f in handler.filters), handler
        previous_streams.append((handler, handler.setStream(buffer)))
    yield buffer
    for handler, stream in previous_streams:
        handler.setStream(stream)


@pytest.mark.urls("tests.protected_app.urls")
@pytest.mark.parametrize("real_name", [NAME, "ဦးသူရအောင်"])
def test_protected_values_never_reach_the_logs_of_a_request(log_output, real_name):
    record = ProtectedRecordFactory(real_name=real_name, service_number=SERVICE_NUMBER)
    client = Client(raise_request_exception=False)

    assert client.get(f"/records/{record.pk}/log/").status_code == 200
    assert client.get(f"/records/{record.pk}/fail/").status_code == 500

    written = log_output.getvalue()
    entries = [json.loads(line) for line in written.splitlines()]
    decoded = json.dumps(entries, ensure_ascii=False)
    for text in (written, decoded):
        assert real_name not in text
        assert SERVICE_NUMBER not in text
    by_message = {entry["message"]: entry for entry in entries}
    assert "handled [redacted]" in by_message
    assert by_message["checked the service number"]["service_number"] == "[redacted]"
    assert by_message["looked up"]["subject"] == "[redacted]"
    assert "[redacted]" in str(by_message["looked up"]["person"])
    error = by_message[f"Internal Server Error: /records/{record.pk}/fail/"]
    assert error["level"] == "ERROR"
    assert error["logger"] == "django.request"
    assert "RuntimeError: could not process [redacted] ([redacted])" in error["exc_info"]


def test_a_malformed_log_call_neither_crashes_nor_leaks(log_output):
    logger = logging.getLogger("tests.protected_app")
    with redaction.protected_values_scope():
        redaction.remember(NAME)
        logger.info("two values expected: %s %s", NAME)

    written = log_output.getvalue()
    assert NAME not in written
    assert "log arguments could not be formatted" in written


def test_a_model_form_shows_the_date_and_sees_no_change_when_it_is_resubmitted(record):
    class RecordForm(forms.ModelForm):
        class Meta:
            model = ProtectedRecord
            fields = ["code", "real_name", "service_number", "date_of_birth"]

    loaded = ProtectedRecord.objects.get(pk=record.pk)
    unbound = RecordForm(instance=loaded)
    assert unbound["date_of_birth"].value() == BIRTH_DATE.isoformat()

    resubmitted = RecordForm(
        data={
            "code": loaded.code,
            "real_name": NAME,
            "service_number": SERVICE_NUMBER,
            "date_of_birth": "1991-03-14",
        },
        instance=loaded,
    )
    assert resubmitted.is_valid(), resubmitted.errors
    assert resubmitted.changed_data == []


# --- ciphertext comes only from the database ---------------------------------------------------


def _stored(record: ProtectedRecord, column: str) -> str:
    with connection.cursor() as cursor:
        query = f"SELECT {column} FROM protected_app_protectedrecord WHERE id = %s"  # noqa: S608
        cursor.execute(query, [record.pk])
        return cursor.fetchone()[0]


class RecordForm(forms.ModelForm):
    class Meta:
        model = ProtectedRecord
        fields = ["code", "real_name", "service_number"]


def test_typing_another_records_ciphertext_stores_the_typed_text_not_their_value(record):
    """An insider who can read the database (or a backup) copies another record's stored name
    into a record of their own, hoping Haven decrypts it for them: it is stored as typed."""
    their_name = _stored(record, "real_name")
    assert their_name.startswith("hv1:")
    mine = ProtectedRecord.objects.create(code="HV-2026-00901", real_name=their_name)
    # Something typed that merely looks like ciphertext is stored encrypted and read back.
    odd = ProtectedRecord.objects.create(code="HV-2026-00903", real_name="hv1:99:not-a-token")
    assert ProtectedRecord.objects.get(pk=odd.pk).real_name == "hv1:99:not-a-token"
    assert ProtectedRecord.objects.get(pk=mine.pk).real_name == their_name
    assert _stored(mine, "real_name") != their_name

    form = RecordForm(
        {"code": "HV-2026-00902", "real_name": their_name, "service_number": their_name[:40]}
    )
    assert form.is_valid(), form.errors  # full_clean of the model ran
    through_form = form.save()
    reread = ProtectedRecord.objects.get(pk=through_form.pk)
    assert reread.real_name == their_name and NAME not in (reread.real_name or "")
    assert _stored(through_form, "real_name") != their_name
