import pytest

import events
import projections
from projections import search as model

SOURCE = [{"url": "https://example.org/a", "quote": "a quote", "kind": "press", "language": "en"}]


def append(*new):
    recorded = events.append(list(new), author="editor")
    projections.catch_up()
    return recorded


def found(text, **filters):
    answer = model.search(model.parse_query(text), model.Filters(**filters), limit=100)
    return answer, [r.title for r in answer.results]


def test_the_seeds_are_found_in_french_and_english_with_their_facets(seeded):
    answer, titles = found("Pegase")
    assert titles and all("Pegase" in t for t in titles)
    assert dict(answer.facets["kind"]) == {"exercise": len(titles)}
    assert dict(answer.facets["document"]) == {"voa-2023-air-drills": len(titles)}

    answer, titles = found('"feuille de route"')  # a phrase of the French joint statement, quoted verbatim
    assert titles == ["Roadmap for Franco-Japanese cooperation (2013-2018) adopted"]
    assert answer.results[0].found_in == "quote"
    marked = [text for text, matched in answer.results[0].snippet if matched]
    assert [m.casefold() for m in marked] == ["feuille de route"]
    assert ("fr", 1) in answer.facets["language"]
    assert dict(answer.facets["type"]) == {"AgreementAdopted": 1}


def test_accents_and_case_are_folded_both_ways(log):
    projections.ensure_schema()
    append(events.NewEvent("exercise/pegase", "ExerciseConducted", "2026-21",
                           {"title": "Pégase 2026: Rafales land at Hyakuri", "place": "Brest"}, SOURCE))
    for text in ("pegase", "PÉGASE", "Pégase", "peg*", "brest"):
        assert found(text)[1] == ["Pégase 2026: Rafales land at Hyakuri"], text
    answer, _ = found("BREST")
    assert answer.results[0].found_in == "place"
    assert answer.results[0].snippet == [("Brest", True)]
    assert found("pegasus")[1] == []


def test_participants_quotes_translations_and_document_names_are_searched(log):
    projections.ensure_schema()
    source = {"document": "joint-statement-2017", "title": "Déclaration conjointe", "language": "fr",
              "quote": "Les ministres ont salué la coopération",
              "translation": {"text": "The ministers welcomed the cooperation", "language": "en"}}
    append(events.NewEvent("source/joint-statement-2017", "DocumentRegistered", "2017-01-06", {  # the quote's copy
        "title": "Déclaration conjointe", "kind": "official", "language": "fr",
        "text": "Les ministres ont salué la coopération entre les deux pays."}))
    append(events.NewEvent("meeting/2plus2", "MeetingHeld", "2017-01-06",
                           {"title": "Third 2+2", "participants": [{"name": "Jean-Yves Le Drian", "role": "host"}]},
                           [source]))
    for text in ("ministres salue", "welcomed", "Le Drian", "declaration conjointe", "joint-statement-2017", "2plus2"):
        assert found(text)[1] == ["Third 2+2"], text
    answer, _ = found("welcomed")
    assert answer.results[0].found_in == "translation"
    assert dict(answer.facets["language"]) == {"fr": 1, "en": 1}
    assert dict(answer.facets["participant"]) == {"Jean-Yves Le Drian": 1}


def test_filters_narrow_the_answer_and_the_counts(log):
    projections.ensure_schema()
    append(
        events.NewEvent("exercise/pegase", "ExerciseConducted", "2023-07", {"title": "Pegase air drills"}, SOURCE),
        events.NewEvent("exercise/pegase", "ExercisePlanned", "2023-08",
                        {"title": "Pegase to continue", "planned_for": "2024"}, SOURCE),
        events.NewEvent("agreement/pegase-accord", "AgreementSigned", "2019-05-02", {"title": "Pegase accord"}, SOURCE),
    )
    answer, titles = found("pegase")
    assert titles == ["Pegase accord", "Pegase air drills", "Pegase to continue"]  # in valid-time order
    assert dict(answer.facets["year"]) == {"2019": 1, "2023": 1, "2024": 1}  # a plan counts under its planned year
    answer, titles = found("pegase", kind="exercise")
    assert titles == ["Pegase air drills", "Pegase to continue"]
    assert dict(answer.facets["kind"]) == {"exercise": 2}
    assert found("pegase", kind="exercise", year=2024)[1] == ["Pegase to continue"]
    assert found("pegase", type="AgreementSigned")[1] == ["Pegase accord"]
    assert found("pegase", language="fr")[1] == []
    answer, titles = found("pegase", language="fr")
    assert ("fr", 0) in answer.facets["language"]  # the chosen value is shown even with no match


def test_corrections_and_retractions_change_what_is_found(log):
    projections.ensure_schema()
    first, second = append(
        events.NewEvent("context/a", "IncidentOccurred", "2020", {"title": "Sighting near Brest"}, SOURCE),
        events.NewEvent("context/b", "IncidentOccurred", "2021", {"title": "Sighting near Toulon"}, SOURCE),
    )
    append(events.NewEvent("context/a", "EventCorrected", "2022", {
        "target": first.event_id, "reason": "the port was wrong",
        "changes": {"data": {"title": "Sighting near Lorient"}}}))
    append(events.NewEvent("context/b", "EventRetracted", "2022", {"target": second.event_id, "reason": "a hoax"}))
    assert found("brest")[1] == []
    assert found("lorient")[1] == ["Sighting near Lorient"]
    assert found("toulon")[1] == []
    incremental = projections.get("search").dump()
    projections.rebuild("search")
    assert projections.get("search").dump() == incremental


def test_pages_follow_the_cursor_in_either_order(log):
    projections.ensure_schema()
    append(*[events.NewEvent(f"context/c{i}", "IncidentOccurred", f"{2000 + i}", {"title": f"Drill {i}"}, SOURCE)
             for i in range(7)])
    q = model.parse_query("drill")
    seen, after = [], None
    while True:
        answer = model.search(q, after=after, limit=3)
        seen += [r.title for r in answer.results]
        after = answer.next_after
        if after is None:
            break
    assert seen == [f"Drill {i}" for i in range(7)]
    newest = model.search(q, newest_first=True, limit=3)
    assert [r.title for r in newest.results] == ["Drill 6", "Drill 5", "Drill 4"]
    following = model.search(q, newest_first=True, after=newest.next_after, limit=3)
    assert [r.title for r in following.results] == ["Drill 3", "Drill 2", "Drill 1"]


def test_many_matches_are_counted_up_to_the_bound_and_paged_the_same(log, monkeypatch):
    projections.ensure_schema()
    append(*[events.NewEvent(f"context/d{i}", "IncidentOccurred", f"{2000 + i}", {"title": f"Patrol {i}"}, SOURCE)
             for i in range(9)])
    monkeypatch.setattr(model, "FACET_SCAN", 4)
    answer = model.search(model.parse_query("patrol"), limit=3)
    assert answer.more_than and answer.total == 4
    assert sum(n for _, n in answer.facets["kind"]) == 5  # counted over the bound's scan (one past it)
    assert [r.title for r in answer.results] == ["Patrol 0", "Patrol 1", "Patrol 2"]
    following = model.search(model.parse_query("patrol"), after=answer.next_after, limit=3)
    assert [r.title for r in following.results] == ["Patrol 3", "Patrol 4", "Patrol 5"]


@pytest.mark.parametrize(("text", "message"), [
    ("", "at least one word"),
    ("*** ...", "at least one word"),
    ("x" * 201, "at most 200 characters"),
    (" ".join(f"w{i}" for i in range(13)), "at most 12 words"),
])
def test_a_query_with_nothing_to_find_is_refused_naming_q(text, message):
    with pytest.raises(ValueError, match=f"^q: .*{message}"):
        model.parse_query(text)


def test_operators_typed_by_a_person_are_words_not_syntax():
    q = model.parse_query('NEAR(a b) OR "feuille de route" -x pég*')
    assert q.terms == ("near", "a", "b", "or", "x")
    assert q.phrases == (("feuille", "de", "route"),)
    assert q.prefixes == ("peg",)
    assert q.fts5() == '"near" AND "a" AND "b" AND "or" AND "x" AND "feuille de route" AND "peg"*'
    assert q.tsquery() == "near & a & b & or & x & (feuille <-> de <-> route) & peg:*"


def test_the_text_indexed_is_every_field_a_snippet_can_show(seeded):
    from events import store
    from tests.benchmarks import workload

    facts = [e for e in store.read_all() if e.type not in ("EventCorrected", "EventRetracted")]
    facts += list(workload.generate(300))
    for e in facts:
        assert model.searched_text(e.stream, e.data, e.sources) == "\n".join(
            text for _, text in model.fields_of(e.stream, e.data, e.sources))


def test_a_registered_document_is_a_source_not_a_fact_found(log):
    projections.ensure_schema()
    append(events.NewEvent("source/communique", "DocumentRegistered", "2026-07-14", {
        "title": "Communiqué sur Pégase", "kind": "official", "language": "fr",
        "text": "Les avions de Pégase sont arrivés au Japon."}))
    assert found("Pegase")[1] == []  # its page, /sources/communique, is where its words are read
    append(events.NewEvent("exercise/pegase", "ExerciseConducted", "2026-07", {"title": "Pégase 2026"}, [{
        "document": "communique", "quote": "Les avions de Pégase sont arrivés"}]))
    assert found("Pegase")[1] == ["Pégase 2026"]
    search = projections.get("search")
    incremental = search.dump()
    projections.rebuild("search")
    assert search.dump() == incremental
