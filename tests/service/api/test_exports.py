"""Every view as CSV: it parses with Python's csv module and matches the view's JSON row for row."""

from __future__ import annotations

import csv
import io

import pytest

import events
import projections
from events import dates
from seeds.catalog import load_documents
from tests.conftest import make_event


@pytest.fixture
def api(seeded_app):
    return seeded_app.test_client()


def table(api, path: str) -> list[dict[str, str]]:
    response = api.get(path)
    assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw  # a spreadsheet reads it as UTF-8
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def json_of(api, path: str):
    response = api.get(path)
    assert response.status_code == 200
    return response.get_json()


def span(edtf: str) -> tuple[str, str]:
    lo, hi = dates.bounds(edtf) if edtf else (None, None)
    return lo or "", hi or ""


def test_agreements_csv_matches_the_json_on_the_same_day(api):
    rows = table(api, "/agreements.csv?as_of=2019-06-01")
    listed = json_of(api, "/api/agreements?as_of=2019-06-01&limit=1000")["agreements"]
    assert [r["stream"] for r in rows] == [a["stream"] for a in listed]
    for row, a in zip(rows, listed, strict=True):
        assert (row["title"], row["name"], row["status"], row["in_force"], row["reason"]) == (
            a["title"], a["name"], a["status"], a["active"], a["reason"])
        since = a["since"]["occurred"] if a["since"] else ""
        assert row["since_edtf"] == since and (row["since_start"], row["since_end"]) == span(since)
        assert row["parties"] == "; ".join(a["parties"]) and int(row["stages"]) == len(a["stages"])
    acsa = next(r for r in rows if r["stream"] == "agreement/acsa")
    assert acsa["status"].startswith("signed") and acsa["url"].endswith("/subjects/agreement/acsa")
    earlier = {r["stream"]: r for r in table(api, "/agreements.csv?as_of=2016-06-01")}
    assert earlier["agreement/defence-equipment-transfer"]["in_force"] == "no"  # the same filter as the page


def test_agreements_csv_lists_every_agreement_past_one_page(seeded_app, monkeypatch):
    from service.api import exports

    monkeypatch.setattr(exports, "BATCH", 2)
    rows = table(seeded_app.test_client(), "/agreements.csv")
    listed = json_of(seeded_app.test_client(), "/api/agreements?limit=1000")["agreements"]
    assert [r["stream"] for r in rows] == [a["stream"] for a in listed] and len(rows) > 2


def test_exercises_csv_is_one_row_per_edition_with_the_filters(api):
    for query in ("", "?domain=air", "?year=2017&participant=united", "?sort=-where"):
        rows = table(api, f"/exercises.csv{query}")
        series = json_of(api, f"/api/exercises{query}{'&' if query else '?'}limit=1000")["series"]
        editions = [(s, e) for s in series for e in s["editions"]]
        assert len(rows) == len(editions) > 0, query
        for row, (s, e) in zip(rows, editions, strict=True):
            assert (row["series_stream"], row["event_id"], row["title"], row["date_edtf"]) == (
                s["stream"], e["event_id"], e["title"], e["occurred"])
            assert (row["start"], row["end"]) == (e["lo"] or "", e["hi"] or "")
            assert row["domains"] == "; ".join(e["domains"]) and row["planned"] == str(e["planned"])
    assert all("air" in r["domains"].split("; ") for r in table(api, "/exercises.csv?domain=air"))


def test_meetings_csv_holds_every_item_of_every_mechanism(api):
    rows = table(api, "/meetings.csv")
    mechanisms = json_of(api, "/api/meetings?limit=1000")["mechanisms"]
    expected = []
    for m in mechanisms:
        expected += [(m["stream"], "set up", m["established"]["event_id"])] if m["established"] else []
        expected += [(m["stream"], "session", s["event_id"]) for s in m["sessions"]]
        expected += [(m["stream"], "statement", s["event_id"]) for s in m["statements"]]
        expected += [(m["stream"], "planned", p["event_id"]) for p in m["planned"]]
    assert [(r["stream"], r["item"], r["event_id"]) for r in rows] == expected
    third = next(r for r in rows if r["title"] == "Third France-Japan 2+2 held in Paris")
    assert (third["session"], third["date_edtf"], third["start"], third["end"], third["place"]) == (
        "3", "2017-01-06", "2017-01-06", "2017-01-06", "Paris")


def test_timeline_csv_is_the_whole_timeline_in_order(api):
    rows = table(api, "/timeline.csv")
    entries = json_of(api, "/api/timeline?limit=1000")["entries"]
    # Every fact of a fresh seed: the log less the documents' registrations, which are sources, not facts.
    assert len(rows) == len(entries) == events.store.head_position() - len(load_documents())
    for row, e in zip(rows, entries, strict=True):
        assert (row["event_id"], row["title"], row["date_edtf"], row["when"], row["precision"], row["lane"]) == (
            e["event_id"], e["title"], e["occurred"], e["when"], e["precision"], e["lane"])
        assert (row["start"], row["end"], row["cursor"]) == (e["lo"] or "", e["hi"] or "", e["cursor"])
        assert row["planned_for"] == (e["planned_for"] or "")
    assert any(row["planned_for"] for row in rows)  # the seeds' plans name the date they are for
    lane = table(api, "/timeline.csv?kind=exercise")
    assert lane and {r["lane"] for r in lane} == {"exercise"}
    assert [r["event_id"] for r in lane] == [e["event_id"] for e in entries if e["lane"] == "exercise"]


def test_timeline_csv_streams_past_its_batch(seeded_app, monkeypatch):
    from projections import timeline

    real = timeline.table_rows
    monkeypatch.setattr(timeline, "table_rows", lambda kind=None: real(kind, batch=7))
    client = seeded_app.test_client()
    assert [r["event_id"] for r in table(client, "/timeline.csv")] == [
        e["event_id"] for e in json_of(client, "/api/timeline?limit=1000")["entries"]]


def test_search_csv_matches_the_search_json(api):
    rows = table(api, "/search.csv?q=jeanne&sort=-date")
    found = json_of(api, "/api/search?q=jeanne&sort=-date&limit=1000")
    assert [r["event_id"] for r in rows] == [r["event_id"] for r in found["results"]] and len(rows) == found["total"]
    for row, r in zip(rows, found["results"], strict=True):
        assert (row["title"], row["date_edtf"], row["snippet"], row["found_in"]) == (
            r["title"], r["occurred"], r["snippet"], r["found_in"])


def test_text_a_spreadsheet_would_misread_is_quoted_and_a_formula_made_inert(app):
    with app.app_context():
        projections.catch_up()
        events.append([make_event(stream="context/quotes", type_="IncidentOccurred", occurred="2020-02",
                                  title='Sighting, "near" Brest; =1+1 — Pégase'),
                       make_event(stream="context/formula", type_="IncidentOccurred", occurred="2021",
                                  title='=HYPERLINK("https://example.org", "click")')], author="seed")
        projections.catch_up()
    rows = table(app.test_client(), "/timeline.csv")
    assert [r["title"] for r in rows] == ['Sighting, "near" Brest; =1+1 — Pégase',
                                          '\'=HYPERLINK("https://example.org", "click")']
    assert (rows[0]["start"], rows[0]["end"], rows[0]["when"]) == ("2020-02-01", "2020-02-29", "February 2020")


@pytest.mark.parametrize(("path", "parameter"), [
    ("/agreements.csv?as_of=yesterday", "as_of"), ("/exercises.csv?domain=bogus", "domain"),
    ("/exercises.csv?sort=who", "sort"), ("/timeline.csv?kind=war", "kind"), ("/search.csv", "q"),
    ("/search.csv?q=x&year=17", "year"), ("/search.csv?q=x&kind=bogus", "kind"), ("/meetings?sort=up", "sort"),
])
def test_a_bad_parameter_gets_the_same_400_as_its_page_and_json(api, path, parameter):
    response = api.get(path)
    assert response.status_code == 400
    message = response.get_data(as_text=True)
    page_path = path.replace(".csv", "", 1)
    json_path = "/api" + page_path
    body = api.get(json_path).get_json()
    assert body["parameter"] == parameter
    assert body["error"].split(":")[0] == parameter and parameter in message
    if page_path != "/search":  # the search page without words is its empty form
        page = api.get(page_path)
        words = body["error"].split(" (")[0].replace("'", "&#39;")
        assert page.status_code == 400 and words in page.get_data(as_text=True)
