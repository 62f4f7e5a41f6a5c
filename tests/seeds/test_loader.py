import io
import shutil

import pytest
import yaml

import events
from events.transfer import export
from seeds.catalog import SEEDS_DIR, SeedError, event_id_for
from seeds.loader import seed


@pytest.fixture
def seed_dir(tmp_path):
    """A private copy of the seed catalogue that a test may edit."""
    target = tmp_path / "seeds"
    target.mkdir()
    shutil.copy(SEEDS_DIR / "documents.yaml", target)
    shutil.copytree(SEEDS_DIR / "documents", target / "documents")
    shutil.copytree(SEEDS_DIR / "events", target / "events")
    return target


def _edit(seed_dir, entry_id, change):
    path = seed_dir / "events" / f"{entry_id.split('/')[0]}.yaml"
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    row = next(r for r in rows if r["id"] == entry_id)
    change(row)
    path.write_text(yaml.safe_dump(rows, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _exported() -> bytes:
    out = io.BytesIO()
    export(out)
    return out.getvalue()


def test_seed_appends_the_catalogue_and_twice_changes_nothing(log):
    first = seed()
    assert first.appended >= 90 and first.corrected == 0
    before = _exported()
    second = seed()
    assert (second.appended, second.corrected, second.unchanged) == (0, 0, first.appended)
    assert _exported() == before
    assert {e.author for e in events.read_all()} == {"seed"}


ACSA_SIGNED = "ifri-pajon-2018/acsa-signed"


def test_an_edited_entry_becomes_a_correction_once(sqlite_log, seed_dir):
    seed(seed_dir)
    _edit(seed_dir, ACSA_SIGNED, lambda row: row.update(summary="Signed in July 2018 (edited summary)."))
    report = seed(seed_dir)
    assert (report.appended, report.corrected) == (0, 1)
    state = events.state(event_id_for(ACSA_SIGNED))
    assert state.current.data["summary"] == "Signed in July 2018 (edited summary)."
    assert state.revisions[0].event.data["changes"] == {"data": {"summary": "Signed in July 2018 (edited summary)."}}
    assert seed(seed_dir).corrected == 0
    # Editing it back is a new correction, not a clash with the first one's id.
    _edit(seed_dir, ACSA_SIGNED, lambda row: row.update(summary="Back again."))
    assert seed(seed_dir).corrected == 1


def test_editors_corrections_and_retractions_survive_a_reseed(sqlite_log, seed_dir):
    seed(seed_dir)
    target = events.get(event_id_for(ACSA_SIGNED))
    events.append([events.NewEvent(target.stream, "EventCorrected", "2026-11-23",
                                   {"target": target.event_id, "reason": "place known",
                                    "changes": {"data": {"place": "Paris"}}})], author="editor")
    other = event_id_for("joint-statement-2017-2plus2/2plus2-third-session")
    events.append([events.NewEvent(events.get(other).stream, "EventRetracted", "2026-11-23",
                                   {"target": other, "reason": "test"})], author="editor")
    report = seed(seed_dir)
    assert (report.appended, report.corrected, report.retracted_kept) == (0, 0, 1)
    assert events.current_form(target.event_id).data["place"] == "Paris"


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        (lambda row: row.update(type="AgreementSignd"), "type", "unknown event type 'AgreementSignd'"),
        (lambda row: row.update(occurred="2018-02-30"), "occurred", "day 30 does not exist"),
        (lambda row: row["sources"][0].pop("quote"), "sources[0].quote", "is required"),
        (lambda row: row["sources"][0].update(quote="an ACSA was signed in 2019"), "sources[0].quote",
         "not found in 000_4a5c008361d042e2.txt"),
        (lambda row: row["sources"][0].update(quote=42), "sources[0].quote", "must be a string"),
        (lambda row: row["sources"][0].update(document="nowhere"), "sources[0].document", "unknown document"),
        (lambda row: row.pop("title"), "title", "is required"),
        (lambda row: row.update(colour="red"), "colour", "unknown field"),
    ],
)
def test_a_bad_entry_refuses_the_whole_catalogue(sqlite_log, seed_dir, change, field, fragment):
    _edit(seed_dir, ACSA_SIGNED, change)
    with pytest.raises(SeedError) as info:
        seed(seed_dir)
    assert info.value.field == field
    assert fragment in info.value.reason
    assert ACSA_SIGNED in info.value.where and "ifri-pajon-2018.yaml" in info.value.where
    assert events.head() is None
