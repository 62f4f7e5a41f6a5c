import gzip
import io
import shutil
from pathlib import Path

import pytest
import yaml

import events
from events.transfer import export, import_lines
from seeds import catalog
from seeds.catalog import SEEDS_DIR, SeedError, event_id_for, load_documents, load_entries, load_retractions
from seeds.loader import _desired, plan, seed
from tests.conftest import written_by_an_earlier_version


@pytest.fixture
def seed_dir(tmp_path):
    """A private copy of the seed catalogue that a test may edit."""
    target = tmp_path / "seeds"
    target.mkdir()
    shutil.copy(SEEDS_DIR / "documents.yaml", target)
    shutil.copy(SEEDS_DIR / "translations.yaml", target)
    shutil.copy(SEEDS_DIR / "retractions.yaml", target)
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
    assert first.appended >= 95 and first.corrected == 0 and first.registered == 5
    logged = events.read(limit=first.appended)
    assert [e.type for e in logged[:5]] == ["DocumentRegistered"] * 5  # documents before the quotes naming them
    assert {e.stream for e in logged[:5]} == {f"source/{d}" for d in load_documents()}
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


def test_a_document_is_registered_with_its_file_byte_for_byte_and_what_is_inferred(log):
    seed()
    for document in load_documents().values():
        [registration] = events.read_stream(f"source/{document.id}")
        assert registration.data["text"].encode("utf-8") == document.path.read_bytes()
        assert registration.occurred == document.metadata["published"]
        assert registration.event_id == document.event_id
    statement = events.read_stream("source/joint-statement-2017-2plus2")[0]
    assert set(statement.data["inferred"]) == {"title", "publisher", "occurred", "kind"}  # published is the date
    assert "Déclaration conjointe" in statement.data["inferred"]["title"]


def _earlier_catalogue(monkeypatch) -> list:
    """The entries as the version before documents and translations appended them."""
    with monkeypatch.context() as m:
        m.setattr(catalog, "TRANSLATIONS", "no-translations-then.yaml")
        return catalog.load_entries()


def test_a_log_seeded_by_an_earlier_version_gets_only_what_is_new(log, monkeypatch):
    earlier, _ = plan(_earlier_catalogue(monkeypatch))
    with written_by_an_earlier_version():
        events.append(earlier, author="seed")
    head = events.store.head_position()
    translated = {e.id for e in catalog.load_entries() if any("translation" in s for s in e.event.sources)}
    report = seed()
    assert (report.appended, report.registered, report.corrected) == (5, 5, len(translated))
    new = events.read(after=head)
    assert [e.type for e in new[:5]] == ["DocumentRegistered"] * 5
    corrections = new[5:]
    assert {e.data["target"] for e in corrections} == {event_id_for(entry) for entry in translated}
    assert all(set(e.data["changes"]) == {"sources"} for e in corrections)  # the translations, nothing else
    assert (seed().appended, seed().corrected) == (0, 0)
    third_session = events.current_form(event_id_for("joint-statement-2017-2plus2/2plus2-third-session"))
    assert third_session.sources[1]["translation"] == {
        "text": 'met on 6 January 2017 in Paris for the 3rd session of the Franco-Japanese ministerial '
                'political-military consultations ("2+2")', "language": "en"}


def test_a_documents_text_edited_after_registration_refuses_the_seed(sqlite_log, seed_dir):
    seed(seed_dir)
    path = seed_dir / "documents" / "003_e408b418f7543da1.txt"
    path.write_bytes(path.read_bytes().replace(b"Back to top button", b"Back to top"))
    head = events.store.head_position()
    with pytest.raises(events.ValidationError, match=r"data\.changes\.data\.text: cannot be corrected"):
        seed(seed_dir)
    assert events.store.head_position() == head


# --- an old database: the seed brings it in line with the catalogue, and says why --------------------------------

#: The log `chronology seed` wrote before issue 17's seed fixes, exported (tests/seeds/data).
OLD_LOG = Path(__file__).parent / "data" / "seeded-before-issue-17.jsonl.gz"
#: What the fixes change in each entry that was in that log: exactly these corrections, no other.
CORRECTED = {
    "ifri-pajon-2018/export-control-forum-set-up": {"mechanism", "possibly_same_as", "sources", "summary"},
    "ifri-pajon-2018/maritime-dialogue-first-planned": {"possibly_same_as"},
    "ifri-pajon-2018/jeanne-d-arc-2017-guam-drills": {"participants"},
    "ifri-pajon-2018/uk-ships-with-french-navy-2018": {"occurred", "summary"},
    "ifri-pajon-2018/brochure-japanese-translation": {"occurred"},
    "joint-statement-2017-2plus2/defence-equipment-committee-at-work": {"possibly_same_as", "summary"},
    "joint-statement-2017-2plus2/space-dialogue-first-session": {"mechanism", "summary", "title"},
    "joint-statement-2017-2plus2/space-dialogue-next-session-planned": {"mechanism", "summary", "title"},
    "joint-statement-2017-2plus2/croix-du-sud-2016": {"domains", "possibly_same_as"},
    "mfa-fr-indo-pacific-2025/roadmap-2023-2027": {"occurred", "summary", "title"},
    "mfa-fr-indo-pacific-2025/comprehensive-maritime-dialogue-launched": {"possibly_same_as"},
    "news-2017-third-2plus2/le-drian-jordan-new-years-eve": {"sources", "summary"},
    "news-2017-third-2plus2/discussion-group-technology-cyberdefence": {"occurred", "summary"},
    "news-2017-third-2plus2/discussion-group-industrial-cooperation": {"occurred", "possibly_same_as", "summary"},
    "voa-2023-air-drills/pegase-2023-air-drills-japan": {"occurred", "summary"},
    "voa-2023-air-drills/nato-tokyo-office-blocked": {"occurred", "summary"},
}


def _changed(correction: events.RecordedEvent) -> set[str]:
    changes = correction.data["changes"]
    return {*changes.get("data", {}), *(k for k in ("occurred", "sources") if k in changes)}


def test_a_second_seed_on_an_old_database_appends_exactly_the_corrections(log):
    import_lines(gzip.decompress(OLD_LOG.read_bytes()).splitlines())
    before = events.head().position
    old = {e.event_id for e in events.read_all()}
    entries = load_entries()
    retractions = load_retractions(entries=entries)
    report = seed()
    added = list(events.read(before, limit=10_000))
    assert {e.author for e in added} == {"seed"}
    new = [e for e in added if e.type not in ("EventCorrected", "EventRetracted")]
    registrations = [e.event_id for e in new if e.type == "DocumentRegistered"]
    assert registrations == [d.event_id for d in load_documents().values()]  # the documents, before what quotes them
    assert {e.event_id for e in new} == {*registrations, *(e.event_id for e in entries if e.event_id not in old)}
    corrections = {e.data["target"]: e for e in added if e.type == "EventCorrected"}
    by_event = {e.event_id: e for e in entries}
    # The fixes, and the translations of French quotes (issue 19) attached to the sources they translate.
    translated = {e.id for e in entries if e.event_id in old and any("translation" in s for s in e.event.sources)}
    expected = {**{i: {"sources"} for i in translated}, **{i: f | ({"sources"} if i in translated else set())
                                                              for i, f in CORRECTED.items()}}
    assert {by_event[t].id: _changed(c) for t, c in corrections.items()} == expected
    for target, correction in corrections.items():  # each says why, in the entry's words when it gives them
        entry = by_event[target]
        assert correction.data["reason"] == (entry.correction or f"seed entry {entry.id} was edited")
    withdrawn = {e.data["target"]: e.data["reason"] for e in added if e.type == "EventRetracted"}
    assert withdrawn == {r.event_id: f"{r.reason} Replaced by seed entry {r.replaced_by}." for r in retractions}
    assert (report.appended, report.corrected, report.retracted) == (len(new), len(expected), len(retractions))
    assert len(added) == len(new) + len(expected) + len(retractions)
    # The old log now reads as a fresh seed would: every entry in its catalogue form, the withdrawn ones retracted.
    for entry in entries:
        assert events.state(entry.event_id).current == _desired(entry), entry.id
    assert all(events.state(r.event_id).retracted for r in retractions)
    again = seed()
    assert (again.appended, again.corrected, again.retracted) == (0, 0, 0) and events.head().position == (
        before + len(added))


def test_a_fresh_log_never_gets_a_withdrawn_entry(sqlite_log):
    report = seed()
    assert report.retracted == 0
    for retraction in load_retractions():
        assert events.store.find(retraction.event_id) is None
        assert events.store.find(event_id_for(retraction.replaced_by)) is not None


def test_a_type_or_subject_edit_is_refused_naming_the_entry_not_silently_ignored(sqlite_log, seed_dir):
    seed(seed_dir)
    _edit(seed_dir, ACSA_SIGNED, lambda row: row.update(type="AgreementEnteredIntoForce"))
    with pytest.raises(SeedError) as info:
        seed(seed_dir)
    assert (info.value.field, ACSA_SIGNED in info.value.where) == ("type", True)
    assert "'AgreementSigned' in the log" in info.value.reason and "retractions.yaml" in info.value.reason
    _edit(seed_dir, ACSA_SIGNED, lambda row: row.update(type="AgreementSigned", stream="agreement/acsa-france"))
    with pytest.raises(SeedError) as info:
        seed(seed_dir)
    assert info.value.field == "stream"


@pytest.mark.parametrize(("retraction", "field", "fragment"), [
    ({"id": ACSA_SIGNED, "reason": "wrong"}, "id", "is still an entry at events/ifri-pajon-2018.yaml"),
    ({"id": "ifri-pajon-2018/gone", "reason": " "}, "reason", "is required"),
    ({"id": "ifri-pajon-2018/gone", "reason": "r", "replaced_by": "ifri-pajon-2018/nowhere"}, "replaced_by",
     "names no entry"),
    ({"id": "ifri-pajon-2018/gone", "reason": "r", "when": "now"}, "when", "unknown field"),
])
def test_a_bad_retraction_refuses_the_whole_catalogue(sqlite_log, seed_dir, retraction, field, fragment):
    path = seed_dir / "retractions.yaml"
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump([*rows, retraction], allow_unicode=True), encoding="utf-8")
    with pytest.raises(SeedError) as info:
        seed(seed_dir)
    assert (info.value.field, fragment in info.value.reason) == (field, True)
    assert events.head() is None


def test_a_correction_reason_must_be_words(sqlite_log, seed_dir):
    _edit(seed_dir, ACSA_SIGNED, lambda row: row.update(correction=["a", "list"]))
    with pytest.raises(SeedError) as info:
        seed(seed_dir)
    assert info.value.field == "correction"
