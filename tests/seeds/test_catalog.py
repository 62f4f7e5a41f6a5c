import re
from pathlib import Path

import pytest

from events.vocabulary import EVENT_TYPES, STREAM_KINDS
from seeds.catalog import SEEDS_DIR, load_documents, load_entries, normalise

DOCUMENTS = load_documents()
ENTRIES = load_entries()


def test_the_five_documents_are_kept_with_their_metadata():
    assert len(DOCUMENTS) == 5
    for document in DOCUMENTS.values():
        meta = document.metadata
        assert {"title", "published", "language", "kind"} <= set(meta)
        assert meta["kind"] in {"official", "press", "analysis"}
        assert document.path.parent == SEEDS_DIR / "documents"
        assert len(document.text) > 1000


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_every_quote_is_found_verbatim_in_its_document(entry):
    assert entry.event.sources, "every event has at least one source"
    for source in entry.event.sources:
        raw = (SEEDS_DIR / DOCUMENTS[source["document"]].metadata["file"]).read_text(encoding="utf-8")
        exact = source["quote"]["exact"]
        assert exact in normalise(raw)
        assert normalise(source["quote"]["prefix"] + " " + exact).endswith(exact)
        assert len(exact) >= 20, "a quote long enough to support the claim"


def test_the_catalogue_covers_the_documents():
    assert len(ENTRIES) >= 90
    cited = {s["document"] for e in ENTRIES for s in e.event.sources}
    assert cited == set(DOCUMENTS)
    kinds = {e.event.stream.split("/")[0] for e in ENTRIES}
    assert {"agreement", "exercise", "meeting", "institution", "context"} <= kinds


def test_agreements_get_one_event_per_stated_stage():
    acsa = [e.event.type for e in ENTRIES if e.event.stream == "agreement/acsa"]
    assert "AgreementNegotiationsOpened" in acsa and "AgreementSigned" in acsa
    transfer = [e.event for e in ENTRIES if e.event.stream == "agreement/defence-equipment-transfer"]
    assert [(e.type, e.occurred) for e in transfer] == [("AgreementEnteredIntoForce", "2016-12-01")]


def test_disagreeing_sources_are_both_recorded():
    claims = [e.event for e in ENTRIES if e.event.data.get("fact") == "2plus2-2017-joint-statement-date"]
    assert sorted(c.occurred for c in claims) == ["2017-01-06", "2017-01-08"]
    assert {c.sources[0]["document"] for c in claims} == {"joint-statement-2017-2plus2", "news-2017-third-2plus2"}


def test_french_facts_keep_the_french_quote():
    french = [e for e in ENTRIES if e.event.sources[0]["document"] == "joint-statement-2017-2plus2"]
    assert french
    for entry in french:
        assert entry.event.sources[0]["language"] == "fr"
        assert not re.search(r"\b(le|la|les|des)\b", entry.event.data["title"]), entry.event.data["title"]


def _documented(section: str) -> dict[str, str]:
    text = (SEEDS_DIR / "README.md").read_text(encoding="utf-8")
    part = text.split(f"### {section}", 1)[1].split("\n### ", 1)[0]
    return dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", part, flags=re.M))


def test_every_event_type_is_documented_and_every_documented_type_exists():
    readme = (SEEDS_DIR.parent / "README.md").read_text(encoding="utf-8")
    part = readme.split("### Event types", 1)[1].split("\n### ", 1)[0]
    documented = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", part, flags=re.M))
    assert set(documented) == set(EVENT_TYPES)
    for name, kinds in documented.items():
        listed = set(STREAM_KINDS) if kinds.strip() == "any" else {k.strip() for k in kinds.split(",")}
        assert listed == EVENT_TYPES[name].kinds, name
    used = {e.event.type for e in ENTRIES}
    assert used <= set(documented)


def test_every_stream_kind_is_documented():
    assert set(_documented("Stream kinds")) == set(STREAM_KINDS)


def test_seed_ids_and_event_ids_are_stable():
    from seeds.catalog import event_id_for

    assert event_id_for("x/y") == event_id_for("x/y") != event_id_for("x/z")
    assert all(e.event_id == event_id_for(e.id) for e in ENTRIES)
    assert Path(SEEDS_DIR / "README.md").exists()


def test_every_french_quote_carries_an_english_translation_beside_it():
    french = [s for e in ENTRIES for s in e.event.sources if DOCUMENTS[s["document"]].metadata["language"] == "fr"]
    assert len(french) >= 40
    for source in french:
        translation = source["translation"]
        assert translation["language"] == "en"
        assert translation["text"] and translation["text"] != source["quote"]["exact"]
    english = [s for e in ENTRIES for s in e.event.sources if DOCUMENTS[s["document"]].metadata["language"] == "en"]
    assert not any("translation" in s for s in english)


def _catalogue_copy(tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_a_translation_of_a_quote_its_entry_does_not_give_is_refused(tmp_path):
    from seeds.catalog import SeedError

    target = _catalogue_copy(tmp_path)
    path = target / "translations.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        '"se sont réunis le 6 janvier 2017 à Paris"', '"se sont réunis le 7 janvier 2017 à Paris"', 1),
        encoding="utf-8")
    with pytest.raises(SeedError) as refused:
        load_entries(target)
    assert refused.value.where.startswith("translations.yaml (joint-statement-2017-2plus2/")
    assert "not a quote of that entry: 'se sont réunis le 7 janvier 2017 à Paris'" in refused.value.reason


def test_a_document_may_mark_only_its_own_fields_as_inferred(tmp_path):
    from seeds.catalog import SeedError

    target = _catalogue_copy(tmp_path)
    path = target / "documents.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("  inferred:\n    publisher: >-",
                                                             "  inferred:\n    colour: >-", 1), encoding="utf-8")
    with pytest.raises(SeedError) as refused:
        load_documents(target)
    assert (refused.value.where, refused.value.field) == ("documents.yaml[0]", "inferred.colour")
