"""What a feed says about each event and each read-model change: titles, HTML content, tombstones.

An entry depends only on the log up to its own position, so a page of
entries rendered today renders the same bytes forever (archives are
immutable). A correction re-publishes its target in the form it gave it,
with the correction's time as ``updated`` (RFC 5005's duplicate rule: the
later ``updated`` wins), beside the correction's own entry; a retraction
is a tombstone for its target beside its own entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from html import escape as _html_escape
from typing import Any

from markupsafe import Markup

import events
from events import RecordedEvent, dates
from events.corrections import Form, fold
from events.declaration import DOCUMENT_TYPE
from events.documents import id_of
from events.store import Registration
from events.vocabulary import EVENT_TYPES, META_TYPES
from projections.changes import Change

from ..citations import UNCHECKED
from ..sources import Check, checks, documents_named, quote_link
from ..templating import language_name, precision
from .atom import Category, Entry, Tombstone


def _e(text: object) -> str:
    """Text for HTML content and attribute values (quotes escaped too)."""
    return _html_escape(str(text), quote=True)


def _when(edtf: str) -> str:
    try:
        return dates.describe(edtf)
    except (ValueError, TypeError):
        return str(edtf)


def _categories(base: str, type_: str, stream: str) -> tuple[Category, ...]:
    known = EVENT_TYPES.get(type_)
    return (
        Category(type_, f"{base}/types/", known.description if known else type_),
        Category(stream, f"{base}/subjects/", ""),
    )


def _source_html(source: dict[str, Any], check: Check | None, base: str, event_id: str) -> str:
    quote = source.get("quote")
    exact = quote.get("exact", "") if isinstance(quote, dict) else (quote or "")
    cite = [str(source.get("title") or source.get("document") or "source")]
    cite += [str(source[key]) for key in ("author", "publisher", "published") if source.get(key)]
    parts = [f'<blockquote lang="{_e(source.get("language") or "")}">{_e(exact)}</blockquote>' if exact else "",
             f"<cite>{_e(', '.join(cite))}</cite>"]
    url = source.get("url")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        parts.append(f' <a href="{_e(url)}">{_e(url)}</a>')
    translation = source.get("translation")
    if isinstance(translation, dict) and translation.get("text"):
        language = str(translation.get("language") or "")
        parts.append(f'<p lang="{_e(language)}"><em>{_e(language_name(language))} translation (unofficial), not the '
                     f"source's words:</em> {_e(translation['text'])}</p>")
    if check is not None and check.checked and check.document is not None:
        place = quote_link(check.document, event_id, check.index)
        parts.append(f'<p>Checked against the stored copy: <a href="{_e(base)}{_e(place)}">see the quote in '
                     "place</a>.</p>")
    elif check is not None:
        parts.append(f"<p>{_e(UNCHECKED[:1].upper() + UNCHECKED[1:])}.</p>")
    return f"<li>{''.join(parts)}</li>"


def _fact_html(form: Form, summary: str, source_checks: list[Check], base: str, event_id: str) -> str:
    """Summary, when (and where), then each source's verbatim quote, citation, translation and check.

    Type, subject and log position are the entry's categories and ``chr:position``, not repeated here.
    Built with ``html.escape`` rather than Markup templates: a page of 50 entries renders several times faster.
    """
    when = f"{_when(form.occurred)} ({form.occurred})"
    if form.data.get("place"):
        when += f", {form.data['place']}"
    sources = "".join(_source_html(s, c, base, event_id) for s, c in zip(form.sources, source_checks, strict=True)
                      if isinstance(s, dict))
    return f"<p>{_e(summary)}</p><p>{_e(when)}</p><ul>{sources}</ul>"


def _document_html(event: RecordedEvent, form: Form, base: str) -> str:
    """A registered document: what it is and where its text is read; the text itself stays out of the feeds."""
    data = form.data
    inferred = set(data["inferred"]) if isinstance(data.get("inferred"), dict) else set()
    described = [f"{label}: {data[key]}" + (" (inferred)" if key in inferred else "")
                 for key, label in (("author", "Author"), ("publisher", "Publisher")) if data.get(key)]
    described.append(f"Published {_when(form.occurred)} ({form.occurred})" + (" (inferred)" if "occurred" in inferred
                                                                              else ""))
    described.append(f"{language_name(str(data.get('language') or ''))}, {data.get('kind', '')}")
    document = id_of(event.stream) or ""
    text = data.get("text")
    size = f"{len(text):,} characters, " if isinstance(text, str) else ""
    return (f"<p>Document registered: {_e(str(data.get('title') or document))}.</p>"
            + "".join(f"<p>{_e(line)}</p>" for line in described)
            + f"<p>Kept byte for byte: {_e(size)}SHA-256 <code>{_e(str(data.get('sha256', '')))}</code>.</p>"
            + f'<p><a href="{_e(base)}/sources/{_e(document)}">Read it with every quote in place</a>.</p>')


def fact_entry(event: RecordedEvent, form: Form, *, updated: datetime, position: int, hash_: str,
               base: str, registrations: Mapping[str, Registration] | None = None) -> Entry:
    """An event's entry in ``form`` (its original, or as a correction left it).

    ``position`` and ``hash_`` are those of the event that published this
    form: the fact itself, or the correction that gave it; a source is shown
    as checked when its document was registered before that position
    (``registrations``: read once for a page of entries).
    """
    title = str(form.data.get("title") or event.type)
    summary = str(form.data.get("summary") or title)
    if event.type == DOCUMENT_TYPE:
        content = _document_html(event, form, base)
    else:
        content = _fact_html(form, summary, checks(form.sources, position, registrations), base, event.event_id)
    return Entry(
        id=event.event_id,
        title=f"{title} — {_when(form.occurred)}",
        updated=updated,
        published=event.recorded_at,
        summary=summary,
        content=content,
        link=f"{base}/events/{event.event_id}",
        categories=_categories(base, event.type, event.stream),
        position=position,
        hash=hash_,
    )


def meta_entry(event: RecordedEvent, target: RecordedEvent, target_title: str, base: str) -> Entry:
    """The entry of a correction or a retraction itself."""
    reason = str(event.data.get("reason") or "no reason given")
    if event.type == "EventCorrected":
        changed = sorted({*(event.data.get("changes") or {}).get("data", {}), *(
            k for k in ("occurred", "sources") if k in (event.data.get("changes") or {}))})
        title = f"Corrected: {target_title}"
        body = Markup("<p>{}</p><p>Fields changed: {}.</p>").format(reason, ", ".join(changed) or "none")
    else:
        title = f"Retracted: {target_title}"
        body = Markup("<p>{}</p><p>The event is withdrawn from the chronology; the log keeps it.</p>").format(
            reason)
    body += Markup('<p>Applies to <a href="{}">{}</a>. Log position {}.</p>').format(
        f"{base}/events/{target.event_id}", target_title, event.position)
    return Entry(
        id=event.event_id, title=title, updated=event.recorded_at, published=event.recorded_at,
        summary=f"{title}: {reason}", content=str(body), link=f"{base}/events/{event.event_id}",
        categories=_categories(base, event.type, event.stream), position=event.position, hash=event.hash,
    )


def _form_at(target: RecordedEvent, position: int) -> Form:
    """The target's current form as the log stood at ``position`` (never later: archives must not change)."""
    later = events.read(target.position, limit=100_000, before=position + 1, stream=target.stream,
                        types=sorted(META_TYPES))
    return fold(target, later).current


def event_entries(batch: Sequence[RecordedEvent], base: str, *,
                  newest_only: bool = False) -> tuple[list[Entry], list[Tombstone]]:
    """The entries and tombstones of a run of log events, in log order.

    ``newest_only``: an event corrected within the run appears once, in its
    newest form at its newest place. A subscription document wants it so:
    newsboat, for one, keeps the first of two entries with one id and would
    never show the correction; an archive page keeps both, as it always has.
    """
    wanted = sorted({e.data["target"] for e in batch if e.type in META_TYPES})
    targets = {t.event_id: t for t in (events.get(i) for i in wanted)}
    cited = documents_named([*(e.sources for e in batch), *(t.sources for t in targets.values()),
                             *(e.data["changes"].get("sources") or () for e in batch if e.type == "EventCorrected")])
    registrations = events.store.registrations(cited) if cited else {}
    entries: list[Entry] = []
    tombstones: list[Tombstone] = []
    for event in batch:
        if event.type not in META_TYPES:
            entries.append(fact_entry(event, Form.of(event), updated=event.recorded_at, position=event.position,
                                      hash_=event.hash, base=base, registrations=registrations))
            continue
        target = targets[event.data["target"]]
        before = _form_at(target, event.position - 1)
        target_title = str(before.data.get("title") or target.type)
        if event.type == "EventCorrected":
            form = _form_at(target, event.position)
            entries.append(fact_entry(target, form, updated=event.recorded_at, position=event.position,
                                      hash_=event.hash, base=base, registrations=registrations))
        else:
            tombstones.append(Tombstone(target.event_id, event.recorded_at,
                                        str(event.data.get("reason") or "retracted"),
                                        f"{base}/events/{target.event_id}"))
        entries.append(meta_entry(event, target, target_title, base))
    # A fact and its correction appended in one batch share a recorded time: keep only the corrected
    # version, since RFC 4287 wants the versions of one entry in a document to differ in `updated`.

    def version(entry: Entry) -> object:
        return entry.id if newest_only else (entry.id, entry.updated)

    last = {version(e): i for i, e in enumerate(entries)}
    return [e for i, e in enumerate(entries) if last[version(e)] == i], tombstones


def _day(value: date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


def change_entry(change: Change, base: str, model: str, hash_: str | None) -> Entry:
    """A read model's change (agreements, exercises, meetings) as an entry.

    Its id and ``updated`` are the change row's, which the read model derives
    from the log alone: a rebuild gives the same entries. ``hash_`` is the
    hash of the event at the change's position, the one that caused it. The
    entry says when the change took effect in the world (valid time, at its
    precision) apart from when it was recorded (``updated``).
    """
    title = change.title
    cause = change.cause
    parts = [Markup("<p>{}</p>").format(title)]
    valid = change.valid or (_when(change.occurred) if change.occurred else None)
    if valid:
        edtf = Markup(" (EDTF <code>{}</code>, {})").format(
            change.occurred, precision(change.occurred) or "precision unknown") if change.occurred else ""
        parts.append(Markup("<p>In the world: {}{}.</p>").format(valid, edtf))
    if change.announced:
        parts.append(Markup("<p>Announced: {} (EDTF <code>{}</code>).</p>").format(_when(change.announced),
                                                                                  change.announced))
    if change.note:
        parts.append(Markup("<p>{}</p>").format(change.note))
    if cause == "calendar":
        parts.append(Markup("<p>Recorded: this change comes from the calendar: its date came on {}.</p>").format(
            _day(change.updated.date())))
    else:
        parts.append(Markup("<p>Recorded: {} UTC.</p>").format(change.updated.strftime("%d %B %Y, %H:%M").lstrip("0")))
    event_link = f"{base}/events/{change.event_id}" if change.event_id else f"{base}/{model}"
    parts.append(Markup('<p>From <a href="{}">the event at log position {}</a> on subject {}.</p>').format(
        event_link, change.position, change.stream))
    summary = f"{title} — in the world {valid}" if valid else title
    return Entry(
        id=change.id, title=title, updated=change.updated, published=change.updated, summary=summary,
        content=str(Markup("").join(parts)), link=event_link,
        categories=(Category(cause, f"{base}/{model}/causes/", "from the calendar" if cause == "calendar"
                             else "from an appended event"),
                    Category(change.stream, f"{base}/subjects/", change.stream)),
        position=change.position,
        hash=hash_,
    )
