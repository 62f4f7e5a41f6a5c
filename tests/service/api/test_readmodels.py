from datetime import UTC, datetime

import pytest

import events
import projections
from seeds.catalog import event_id_for


@pytest.fixture
def api(seeded_app):
    return seeded_app.test_client()


def by_name(rows, key="name"):
    return {r[key]: r for r in rows}


def test_agreements_as_of_a_date(api):
    on = by_name(api.get("/api/agreements?as_of=2017-06-30").get_json()["agreements"])
    assert on["Defence equipment transfer agreement"]["active"] == "yes"
    assert on["ACSA"]["status"] == "under negotiation"
    before = by_name(api.get("/api/agreements?as_of=2016-06-30").get_json()["agreements"])
    assert before["Defence equipment transfer agreement"]["active"] == "no"
    row = on["ACSA"]
    assert row["event_ids"] and all(stage["sources"] for stage in row["stages"])
    assert (row["active"], row["reason"]) == ("no", "before its signature (July 2018)")
    later = by_name(api.get("/api/agreements?as_of=2020-01-01").get_json()["agreements"])["ACSA"]
    assert (later["active"], later["reason"]) == ("unknown", "signed in July 2018; entry into force not on record")


def test_agreements_as_known_at_a_recorded_time(api, seeded_app):
    body = api.get("/api/agreements?as_of=2020-01-01&known_at=2000-01-01T00:00:00Z").get_json()
    assert body["agreements"] == [] and body["known_at"] == "2000-01-01T00:00:00+00:00"
    with seeded_app.app_context():
        events.append([events.NewEvent("agreement/acsa", "AgreementEnteredIntoForce", "2019-06-26",
                                       {"title": "ACSA entered into force"},
                                       [{"url": "https://www.mod.go.jp/x", "quote": "in force", "kind": "official"}])],
                      author="editor")
        projections.catch_up()
    now = datetime.now(UTC).isoformat()
    assert by_name(api.get("/api/agreements?as_of=2020-01-01").get_json()["agreements"])["ACSA"]["active"] == "yes"
    earlier = api.get("/api/agreements", query_string={"as_of": "2020-01-01", "known_at": "2001-01-01T00:00:00+00:00"})
    assert earlier.get_json()["agreements"] == []
    assert api.get("/api/agreements", query_string={"known_at": now}).status_code == 200


@pytest.mark.parametrize(("query", "parameter"), [
    ("as_of=2017-02-30", "as_of"), ("as_of=30/06/2017", "as_of"), ("as_of=2017", "as_of"),
    ("known_at=yesterday", "known_at"), ("known_at=0001-01-01T00:00:00%2B05:00", "known_at"),
    ("known_at=9999-12-31T23:59:00-05:00", "known_at"), ("as_of=9999-12-31", "as_of"), ("limit=²", "limit"),
    ("as_of=２０１７-06-30", "as_of"),
])
def test_bad_dates_are_refused_naming_the_parameter(api, query, parameter):
    response = api.get(f"/api/agreements?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter and body["error"].startswith(f"{parameter}: ")
    if parameter != "limit":  # the page gives the same answer, in HTML (it pages by itself)
        page = api.get(f"/agreements?{query}")
        assert page.status_code == 400 and body["error"].split(":")[0] in page.get_data(as_text=True)


def test_a_time_without_an_offset_is_utc_on_pages_and_json_alike(api):
    naive = api.get("/api/agreements?known_at=2030-06-30T10:00:00").get_json()
    assert naive["known_at"] == "2030-06-30T10:00:00+00:00"
    assert api.get("/agreements?known_at=2030-06-30T10:00:00").status_code == 200


def test_exercises_filtered_by_year_domain_and_participant(api):
    every = by_name(api.get("/api/exercises").get_json()["series"])
    assert {"Croix du Sud", "Pegase"} <= set(every)
    assert all(e["sources"] and e["event_id"] for s in every.values() for e in s["editions"])
    air = api.get("/api/exercises?domain=air&year=2023&participant=japan").get_json()
    assert [s["name"] for s in air["series"]] == ["Pegase"]
    assert api.get("/api/exercises?year=2040").get_json()["series"] == []


@pytest.mark.parametrize(("query", "parameter"), [
    ("year=twenty", "year"), ("year=17", "year"), ("domain=underwater", "domain")])
def test_bad_exercise_filters_are_refused_naming_the_parameter(api, query, parameter):
    response = api.get(f"/api/exercises?{query}")
    assert response.status_code == 400 and response.get_json()["parameter"] == parameter


def test_meetings_with_the_next_session_and_the_disputed_statement(api):
    two = by_name(api.get("/api/meetings").get_json()["mechanisms"])["2+2"]
    assert [s["session"] for s in two["sessions"]] == [2, 3]
    assert (two["next"]["occurred"], two["next"]["announced"]) == ("2018", "2017-01-06")
    assert (two["next_passed"], two["next_passed_on"], two["next_note"]) == (
        True, "2019-01-01", "no later session on record (planned for 2018)")
    assert two["statements"][0]["disputed"] is True
    assert event_id_for("joint-statement-2017-2plus2/2plus2-third-session") in two["event_ids"]


def test_the_timeline_pages_by_cursor(api):
    first = api.get("/api/timeline?limit=10").get_json()
    assert len(first["entries"]) == 10 and first["next"] == first["entries"][-1]["cursor"]
    second = api.get(f"/api/timeline?limit=10&after={first['next']}").get_json()
    assert second["entries"][0]["cursor"] > first["next"]
    everything = api.get("/api/timeline?limit=1000").get_json()
    assert everything["next"] is None
    assert [e["event_id"] for e in everything["entries"][:20]] == [
        e["event_id"] for e in first["entries"] + second["entries"]]
    assert all(e["sources"] and e["precision"] for e in everything["entries"])
    exercises = api.get("/api/timeline?kind=exercise").get_json()["entries"]
    assert exercises and {e["lane"] for e in exercises} == {"exercise"}


@pytest.mark.parametrize(("query", "parameter"), [
    ("after=2017", "after"), ("limit=0", "limit"), ("limit=5000", "limit"), ("limit=ten", "limit"),
    ("kind=party", "kind")])
def test_bad_timeline_parameters_are_refused_naming_them(api, query, parameter):
    response = api.get(f"/api/timeline?{query}")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter


@pytest.mark.parametrize(("path", "filters", "rows", "key"), [
    ("/api/agreements", {"as_of": "2019-01-01"}, "agreements", "stream"),
    ("/api/exercises", {"domain": "maritime"}, "series", "stream"),
    ("/api/meetings", {}, "mechanisms", "stream"),
])
def test_read_models_come_a_page_at_a_time_following_next(api, path, filters, rows, key):
    whole = api.get(path, query_string=filters).get_json()
    assert whole["next"] is None and len(whole[rows]) > 2
    seen, after = [], None
    while True:
        query = {**filters, "limit": "2", **({"after": after} if after else {})}
        body = api.get(path, query_string=query).get_json()
        assert len(body[rows]) <= 2
        seen += [r[key] for r in body[rows]]
        if body["next"] is None:
            break
        assert body["next"] == body[rows][-1][key]
        after = body["next"]
    assert seen == [r[key] for r in whole[rows]]


@pytest.mark.parametrize(("path", "parameter", "words"), [
    ("/api/agreements?limit=0", "limit", "between 1 and 1000"),
    ("/api/exercises?limit=1001", "limit", "between 1 and 1000"),
    ("/api/meetings?limit=ten", "limit", "between 1 and 1000"),
    ("/api/agreements?after=agreement/none", "after", "'agreement/none' is not an agreement on record"),
    ("/api/agreements?after=exercise/pegase", "after", "is not a subject of kind agreement"),
    ("/api/exercises?after=pegase", "after", "is not a subject of kind exercise"),
    ("/api/meetings?after=agreement/acsa", "after", "is not a subject of kind meeting"),
])
def test_bad_paging_parameters_are_refused_naming_them(api, path, parameter, words):
    response = api.get(path)
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter and body["error"].startswith(f"{parameter}: ") and words in body["error"]


@pytest.mark.parametrize("path", ["/api/agreements", "/api/exercises", "/api/meetings", "/api/timeline"])
def test_every_read_model_answer_carries_the_coverage(api, path):
    from seeds.catalog import load_documents

    coverage = api.get(path).get_json()["coverage"]
    documents = load_documents()
    assert (coverage["documents"], coverage["urls"]) == (len(documents), 0)
    assert {d["document"] for d in coverage["documents_listed"]} == set(documents)
    assert sum(k["sources"] for k in coverage["kinds"]) == len(documents)
    assert coverage["newest_source_date"] and coverage["statement"].endswith("not known not to have happened.")
