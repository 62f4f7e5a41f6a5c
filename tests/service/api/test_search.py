"""/api/search: the page's answer as JSON, keyset-paged, with every facet's counts."""

from __future__ import annotations

import events
import projections
from tests.conftest import make_event


def test_search_finds_the_seeds_in_both_languages_with_facets(seeded_app):
    api = seeded_app.test_client()
    pegase = api.get("/api/search?q=Pegase").get_json()
    assert pegase["total"] == len(pegase["results"]) > 0 and not pegase["more_than"]
    assert {f["value"]: f["count"] for f in pegase["facets"]["kind"]} == {"exercise": pegase["total"]}
    feuille = api.get('/api/search?q="feuille de route"').get_json()
    assert [r["found_in"] for r in feuille["results"]] == ["quote"]
    snippet, (start, end) = feuille["results"][0]["snippet"], feuille["results"][0]["highlights"][0]
    assert snippet[start:end] == "feuille de route"
    assert {f["value"] for f in feuille["facets"]["language"]} == {"fr", "en"}


def test_brest_as_a_place_is_found_and_narrowed_by_facets(app):
    with app.app_context():
        projections.catch_up()
        events.append([
            make_event(stream="exercise/jeanne-d-arc", type_="DeploymentConducted", occurred="2017-03",
                       title="Jeanne d'Arc task group sails", data={"place": "Brest"}),
            make_event(stream="meeting/naval-talks", type_="MeetingHeld", occurred="2018-05-02",
                       title="Naval staff talks", data={"place": "Brest", "session": 2}),
        ], author="seed")
        projections.catch_up()
    api = app.test_client()
    every = api.get("/api/search?q=brest").get_json()
    assert [r["title"] for r in every["results"]] == ["Jeanne d'Arc task group sails", "Naval staff talks"]
    assert {f["value"]: f["count"] for f in every["facets"]["year"]} == {"2017": 1, "2018": 1}
    assert {f["value"] for f in every["facets"]["type"]} == {"DeploymentConducted", "MeetingHeld"}
    narrowed = api.get("/api/search?q=brest&kind=meeting").get_json()
    assert [r["title"] for r in narrowed["results"]] == ["Naval staff talks"]
    assert narrowed["filters"] == {"kind": "meeting"}
    assert [r["place"] for r in narrowed["results"]] == ["Brest"]


def test_pages_follow_next_to_the_end(seeded_app):
    api = seeded_app.test_client()
    whole = api.get("/api/search?q=france&limit=1000").get_json()
    seen, url = [], "/api/search?q=france&limit=4"
    while True:
        page = api.get(url).get_json()
        seen += [r["event_id"] for r in page["results"]]
        if page["next"] is None:
            break
        url = f"/api/search?q=france&limit=4&after={page['next']}"
    assert seen == [r["event_id"] for r in whole["results"]] and len(seen) > 4


def test_bad_parameters_are_400_naming_them(seeded_app):
    api = seeded_app.test_client()
    for query, parameter in (("", "q"), ("q=%22%22", "q"), ("q=x&limit=0", "limit"), ("q=x&after=zz", "after"),
                             ("q=x&type=Signed", "type"), ("q=x&sort=relevance", "sort"), ("q=x&year=3000", "year")):
        response = api.get(f"/api/search?{query}")
        assert response.status_code == 400 and response.get_json()["parameter"] == parameter, query
