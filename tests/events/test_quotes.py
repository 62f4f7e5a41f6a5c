"""quotes: every seed quote located as the seeds locate it, a near miss answered with the nearest passage, a
selector's context agreeing with the document, and spans in the original text."""

from __future__ import annotations

import unicodedata

import pytest
import yaml

from events import ValidationError
from events.quotes import CONTEXT_CHARS, QuoteNotFound, locate, nearest_passage, normalise, spans
from seeds.catalog import SEEDS_DIR, load_documents

CATALOGUE = load_documents()
DOCUMENTS = {d.id: d.raw for d in CATALOGUE.values()}
SEED_QUOTES = [
    (entry["id"], source["document"], source["quote"])
    for path in sorted((SEEDS_DIR / "events").glob("*.yaml"))
    for entry in yaml.safe_load(path.read_text(encoding="utf-8"))
    for source in entry["sources"]
]
IFRI = DOCUMENTS["ifri-pajon-2018"]
JOINT = DOCUMENTS["joint-statement-2017-2plus2"]


def test_the_seeds_hold_quotes_from_every_document():
    assert len(SEED_QUOTES) > 100
    assert {document for _, document, _ in SEED_QUOTES} == set(DOCUMENTS)


@pytest.mark.parametrize(("entry", "document", "quote"), SEED_QUOTES, ids=[f"{e}:{i}" for i, (e, _, _) in
                                                                            enumerate(SEED_QUOTES)])
def test_every_seed_quote_is_located_as_the_seed_catalogue_locates_it(entry, document, quote):
    text = DOCUMENTS[document]
    found = locate(text, quote)
    expected = CATALOGUE[document].selector(quote)  # the seeds' own rule
    assert {k: found[k] for k in ("exact", "prefix", "suffix")} == expected
    assert normalise(text)[found["start"]:found["end"]] == found["exact"] == normalise(quote)
    assert found["type"] == "TextQuoteSelector"


def test_the_context_is_the_characters_either_side_in_the_normalised_text():
    found = locate(JOINT, "se sont réunis le 6 janvier 2017 à Paris")
    text = normalise(JOINT)
    assert found["prefix"] == text[found["start"] - CONTEXT_CHARS:found["start"]]
    assert found["suffix"] == text[found["end"]:found["end"] + CONTEXT_CHARS]


@pytest.mark.parametrize(("document", "quote", "nearest"), [
    ("ifri-pajon-2018",  # a typo
     "In July 2018, an acquisition and cross-servicing agreemnt (ACSA) was signed",
     "In July 2018, an acquisition and cross-servicing agreement (ACSA) was signed"),
    ("ifri-pajon-2018",  # a missing word
     "a Japanese X-band defense satellite was launched from French Guiana in March 2018",
     "(a Japanese X-band defense communication satellite was launched from French Guiana in March 2018),"),
    ("ifri-pajon-2018",  # an extra word
     "In 2016, Japanese defense attachés were all trained in France.",
     "In 2016, Japanese defense attachés were trained in France."),
    ("ifri-pajon-2018",  # typographic quotes where the document has straight ones
     "as part of France’s “Jeanne D’Arc” mission near Guam",
     'as part of France\'s "Jeanne D\'Arc" mission near Guam.'),
    ("joint-statement-2017-2plus2",  # a word paraphrased
     "se sont réunis le 6 janvier 2017 à Paris, pour la troisième session",
     "se sont réunis le 6 janvier 2017 à Paris, pour la 3e session"),
    ("joint-statement-2017-2plus2",  # a word left out, in French
     "Ils ont salué les travaux menés dans le cadre du comité sur le contrôle des exportations",
     "Ils ont salué les travaux menés dans le cadre du comité conjoint sur le contrôle des exportations"),
])
def test_a_near_miss_is_refused_with_the_nearest_passage(document, quote, nearest):
    with pytest.raises(QuoteNotFound) as refused:
        locate(DOCUMENTS[document], quote, field="sources[0].quote", document=document)
    assert refused.value.field == "sources[0].quote"
    assert refused.value.nearest == nearest
    assert str(refused.value) == (f"sources[0].quote: not found in document {document}; "
                                  f"the nearest passage is: {nearest!r}")


def test_the_refusal_is_a_validation_error_the_form_and_api_already_show():
    with pytest.raises(ValidationError, match=r"^quote: not found in the document; the nearest passage"):
        locate(IFRI, "the ACSA signed in July 2018 allows sharing defence supplies")


def test_a_quote_sharing_no_word_with_the_document_says_so():
    with pytest.raises(QuoteNotFound, match="no passage shares its words") as refused:
        locate(JOINT, "zzz qqq", document="joint-statement-2017-2plus2")
    assert refused.value.nearest is None


def test_an_empty_quote_is_refused():
    with pytest.raises(ValidationError, match="quote: must not be empty"):
        locate(IFRI, " \n\t ")


def test_a_long_nearest_passage_is_shortened_in_the_message():
    quote = normalise(IFRI)[1000:2400].replace(" the ", " a ")
    with pytest.raises(QuoteNotFound) as refused:
        locate(IFRI, quote)
    message = str(refused.value)
    assert " … " in message and len(message) < 700
    assert len(refused.value.nearest) > 1300


def test_the_whitespace_rule_counts_any_run_of_whitespace_as_one_space():
    document = "Le  comité\u00a0conjoint\n\tsur le\u202fcontrôle"
    assert locate(document, "comité conjoint sur\nle contrôle")["exact"] == "comité conjoint sur le contrôle"


def test_a_decomposed_quote_matches_a_composed_document():
    quote = unicodedata.normalize("NFD", "consultations politico-militaires ministérielles")
    assert quote != "consultations politico-militaires ministérielles"
    assert locate(JOINT, quote)["exact"] == "consultations politico-militaires ministérielles"


def test_prefix_and_suffix_pick_the_occurrence_they_name():
    document = "The 2+2 met in Tokyo. Later, the 2+2 met in Paris. Then the 2+2 met in Tokyo again."
    first = locate(document, "the 2+2 met in")
    assert first["start"] == document.index("the 2+2")
    later = locate(document, "the 2+2 met in", prefix="Then ", suffix=" Tokyo again")
    assert later["start"] == document.index("Then the") + len("Then ")


def test_a_thirty_page_document_gives_the_nearest_passage_of_the_right_page():
    pages = [f"Page {n}. " + normalise(DOCUMENTS[d]) for n, d in enumerate(sorted(DOCUMENTS) * 6)][:30]
    pages[27] += " In March 2029 the partnership held its twentieth maritime dialogue in Nouméa with observers."
    document = "\n\n".join(pages)
    assert len(document) > 90_000
    with pytest.raises(QuoteNotFound) as refused:
        locate(document, "In March 2029 the partnership held its 20th maritime dialogue in Noumea")
    assert refused.value.nearest == "In March 2029 the partnership held its twentieth maritime dialogue in Nouméa"


def test_the_nearest_passage_is_whole_words_around_the_quote():
    quote = "the two countries have had neighboring bases in Djibouti since 2011"
    assert nearest_passage(IFRI, quote) == quote + "."  # the document's word is "2011."


def test_a_context_the_document_has_nowhere_is_refused_naming_what_it_has():
    document = "The 2+2 met in Tokyo. Later, the 2+2 met in Paris."
    with pytest.raises(ValidationError) as refused:
        locate(document, "the 2+2 met in", prefix="Earlier, ", field="sources[0].quote", document="d")
    assert refused.value.field == "sources[0].quote.prefix"
    assert refused.value.reason == ("is not what comes before the quote in document d: the document has "
                                    "'The 2+2 met in Tokyo. Later, ' there")
    with pytest.raises(ValidationError) as refused:
        locate(document, "the 2+2 met in", prefix="Later, ", suffix=" Rome", field="q")
    assert refused.value.field == "q.suffix" and "the document has ' Paris.' there" in refused.value.reason


def test_a_context_counts_whitespace_as_the_quote_does():
    document = "Le comité\nconjoint sur le contrôle"
    assert locate(document, "conjoint", prefix="Le  comité ", suffix="\tsur")["start"] == len("Le comité ")


def test_spans_point_into_the_original_text_across_line_breaks():
    document = "Intro.\n\nLes ministres  se sont\nréunis le 6 janvier."
    [span], missing = spans(document, {"q1": "se sont réunis le 6"})
    assert missing == []
    assert document[span.start:span.end] == "se sont\nréunis le 6"


def test_spans_follow_a_selectors_context_and_report_what_is_missing():
    document = "one two. one two. three"
    found, missing = spans(document, {"a": {"exact": "one two", "prefix": "two. "}, "b": "four", "c": "one two"})
    assert missing == ["b"]
    assert [(s.id, s.start, s.end) for s in found] == [("a", 9, 16), ("c", 0, 7)]


def test_every_seed_quote_has_a_span_covering_its_words_in_the_registered_text():
    for document, text in DOCUMENTS.items():
        quotes = {f"q{i}": quote for i, (_, d, quote) in enumerate(SEED_QUOTES) if d == document}
        found, missing = spans(text, quotes)
        assert missing == []
        for span in found:
            assert normalise(text[span.start:span.end]) == normalise(quotes[span.id])
