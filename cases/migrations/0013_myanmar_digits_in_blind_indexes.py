"""Service and ID numbers are indexed with Western digits ("PL-၃၈၃၀၅၇" is "PL-383057"): the
blind indexes stored before are recomputed. Erased cases (blank indexes) are skipped. Where two
cases now have the same number, the migration does not fail: the later ones are marked
identifier_clash (exempt from the one-case-per-number rule), so both share the index and are
listed on the duplicates page for review."""

from collections import defaultdict

from django.db import migrations

from protection.keys import Erased

INDEXES = {"service_number_index": "service_number", "national_id_index": "national_id"}
CHUNK = 500


def recompute_blind_indexes(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    fields = {name: Case._meta.get_field(name) for name in INDEXES}
    rows = (
        Case._base_manager.exclude(service_number_index="", national_id_index="")
        .order_by("pk")
        .only("pk", *INDEXES, *INDEXES.values())
    )
    stale: dict[int, dict[str, str]] = {}
    holders: dict[tuple[str, str], list[int]] = defaultdict(list)
    for case in rows.iterator(chunk_size=CHUNK):
        computed = {}
        for index_name, source in INDEXES.items():
            stored, value = getattr(case, index_name), getattr(case, source)
            if not stored or value in (None, "") or isinstance(value, Erased):
                computed[index_name] = stored
                continue
            computed[index_name] = fields[index_name].digest(str(value))
            holders[(index_name, computed[index_name])].append(case.pk)
        if any(computed[name] != getattr(case, name) for name in INDEXES):
            stale[case.pk] = computed
    # Every case after the first holding a number is marked before any index is written, so no
    # intermediate state breaks the one-case-per-number rule.
    clashing = {pk for pks in holders.values() for pk in sorted(pks)[1:]}
    if clashing:
        Case._base_manager.filter(pk__in=clashing).update(identifier_clash=True)
    Case._base_manager.bulk_update(
        [Case(pk=pk, **computed) for pk, computed in stale.items()], list(INDEXES), batch_size=CHUNK
    )


class Migration(migrations.Migration):
    dependencies = [("cases", "0012_case_identifier_clash")]

    operations = [migrations.RunPython(recompute_blind_indexes, migrations.RunPython.noop)]
