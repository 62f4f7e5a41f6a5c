from datetime import UTC, datetime

import events
import projections
from projections import coverage as model
from seeds.catalog import event_id_for, load_documents


def test_the_seeded_record_says_what_it_is_drawn_from(seeded):
    view = model.coverage()
    documents = load_documents()
    assert (view.documents, view.urls) == (len(documents), 0)
    assert {d.document for d in view.listed} == set(documents)
    kinds = {k.kind: k.sources for k in view.kinds}
    assert kinds == {kind: sum(1 for d in documents.values() if d.metadata["kind"] == kind)
                     for kind in {d.metadata["kind"] for d in documents.values()}}
    newest = max(documents.values(), key=lambda d: model.dates.bounds(d.metadata["published"])[1] or "")
    assert view.newest is not None and view.newest.document == newest.id
    assert view.statement.startswith(f"The record is drawn from {len(documents)} documents: ")
    assert f"The newest is dated {view.newest.published.when}." in view.statement
    assert view.statement.endswith("a fact missing from it is not known not to have happened.")
    row = view.to_dict()
    assert row["documents"] == len(documents) and row["newest_source_date"] == newest.metadata["published"]
    assert {d["document"] for d in row["documents_listed"]} == set(documents)


def test_a_url_source_counts_apart_and_a_correction_updates_a_sources_metadata(seeded):
    url = {"url": "https://www.mod.go.jp/j/press/2019", "quote": "entered into force", "kind": "official",
           "published": "2019-06-26"}
    events.append([events.NewEvent("agreement/acsa", "AgreementEnteredIntoForce", "2019-06-26",
                                   {"title": "ACSA entered into force"}, [url])], author="editor")
    projections.catch_up()
    view = model.coverage()
    assert view.urls == 1 and "1 source cited by URL" in view.statement
    signed = event_id_for("ifri-pajon-2018/acsa-signed")
    moved = {**events.get(signed).sources[0], "published": "2018-11"}
    events.append([events.NewEvent("agreement/acsa", "EventCorrected", "2026-11-23", {
        "target": signed, "reason": "the analysis was published in November 2018",
        "changes": {"sources": [moved]}})], author="editor")
    projections.catch_up()
    ifri = next(d for d in model.coverage().listed if d.document == "ifri-pajon-2018")
    assert ifri.published.published == "2018-11"


def test_an_empty_record_says_so(log):
    projections.ensure_schema()
    projections.catch_up()
    assert model.coverage().statement.startswith("No source is on record yet. The record holds what")


def test_a_rebuild_gives_the_same_rows(seeded):
    events.append([events.NewEvent("agreement/acsa", "AgreementEnteredIntoForce", "2019-06-26",
                                   {"title": "ACSA entered into force"},
                                   [{"url": "https://www.mod.go.jp/x", "quote": "in force", "kind": "official"}])],
                  author="editor")
    projections.catch_up()
    coverage = projections.get("coverage")
    before = coverage.dump()
    projections.rebuild("coverage")
    assert coverage.dump() == before
    assert datetime.now(UTC)  # the view reads the same after
    assert model.coverage().urls == 1
