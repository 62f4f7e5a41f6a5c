"""A document an editor registers through the form or the API: its text, pasted or taken from a .txt, .html or .pdf.

What the log keeps byte for byte (and hashes) is the text this module
returns: UTF-8, NFC, LF line breaks, no byte-order mark, a line per
paragraph or line of the source, so the same document gives the same hash
whichever system saved or pasted it. The uploaded file itself is not the
record, since a PDF or a web page is not text; its SHA-256, name, type and
size are recorded beside the text (``provenance``), so a reader holding the
publisher's file can tell it is the same one. A request carrying a document
may be larger than any other (``carries_documents``).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, TypeVar

from bs4 import BeautifulSoup, NavigableString, Tag
from flask import Flask, current_app, request
from pypdf import PdfReader

from events import NewEvent
from events.declaration import DOCUMENT_TYPE
from events.documents import stream_of
from events.errors import ValidationError
from events.text import XML_ILLEGAL, illegal_character
from events.validation import STREAM_PATTERN

#: The largest request that may carry a document (an uploaded PDF, or a long text as JSON or pasted in a form).
MAX_DOCUMENT_REQUEST = 16 * 1024 * 1024
#: A PDF longer than this is refused: pypdf reads a page at a time, and a hostile file may hold a great many.
MAX_PDF_PAGES = 1_000
#: Media types recorded for the file a text was taken from, by its suffix.
MEDIA_TYPES = {".txt": "text/plain", ".html": "text/html", ".htm": "text/html", ".pdf": "application/pdf"}

SUFFIXES = (".txt", ".html", ".htm", ".pdf")

#: Typographic ligatures a PDF's text layer may carry as one character (ﬁ for "fi"): folded, since a
#: quote typed or copied from elsewhere has the letters.
_LIGATURES = {ord(c): unicodedata.normalize("NFKC", c) for c in "ﬀﬁﬂﬃﬄﬅﬆ"}

#: Elements whose text is never the document's: code, and the site around the article.
_DROPPED = ("script", "style", "noscript", "template", "head", "nav", "header", "footer", "aside", "form",
            "button", "select", "iframe", "svg", "canvas", "dialog")
#: Elements that end a line: a paragraph, a heading, an item, a cell row, a quotation.
_BLOCKS = frozenset({
    "address", "article", "blockquote", "body", "dd", "details", "div", "dl", "dt", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol", "p", "pre", "section", "summary", "table",
    "tbody", "thead", "tfoot", "tr", "ul", "caption",
})
_CELLS = frozenset({"td", "th"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


class ExtractionError(ValidationError):
    """A file whose text cannot be taken; the reason says what to do instead."""

    def __init__(self, reason: str, field: str = "file") -> None:
        super().__init__(field, reason)


def text_of(filename: str, content: bytes, field: str = "file") -> str:
    """The text of an uploaded file, by its name's suffix, or ExtractionError naming what is wrong."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".txt":
        return tidy(_decoded(content, field), field)
    if suffix in (".html", ".htm"):
        return tidy(_html_text(content), field)
    if suffix == ".pdf":
        return tidy(_pdf_text(content, field).translate(_LIGATURES), field)
    shown = suffix or "a name without a suffix"
    raise ExtractionError(f"{filename!r}: {shown} is not a type the text can be taken from: upload .txt, .html "
                          "or .pdf, or paste the text", field)


def tidy(text: str, field: str = "text") -> str:
    """The form every document text is kept in (pasted ones too): NFC, LF line breaks, no BOM, page
    breaks as blank lines, no trailing spaces, no blank lines at either end; a control character
    XML cannot carry is refused with its line, since every feed and export must be able to hold the text."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\f", "\n\n").replace("\v", "\n")
    found = XML_ILLEGAL.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise ExtractionError(f"line {line} holds {illegal_character(text)}, which cannot be stored; remove it",
                              field)
    text = unicodedata.normalize("NFC", text)
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines).strip("\n")
    if not text.strip():
        raise ExtractionError("holds no text", field)
    return text


def _decoded(content: bytes, field: str) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise ExtractionError(f"is not UTF-8 (byte 0x{content[exc.start]:02x} on line {line}): save it as UTF-8 "
                              "and upload it again", field) from None


def _html_text(content: bytes) -> str:
    """The article's text: the site around it (navigation, header, footer, scripts, forms) dropped, a line
    per paragraph, heading, list item or table row, inline markup joined as a browser shows it."""
    soup = BeautifulSoup(content, "lxml")  # reads the declared or sniffed encoding
    for element in soup.find_all(_DROPPED):
        element.decompose()
    root = soup.find("main") or _only(soup.find_all("article")) or soup.body or soup
    lines = _Lines()
    lines.walk(root)
    lines.end_line()
    return "\n".join(lines.done)


class _Lines:
    """The lines of an HTML tree as a browser lays them out: a block ends a line, inline text joins it."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.current: list[str] = []

    def end_line(self) -> None:
        line = re.sub(" +", " ", "".join(self.current)).strip(" ")
        if line:
            self.done.append(line)
        self.current.clear()

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if type(child) is NavigableString:  # not a comment, doctype, CDATA or ruby annotation
                self.current.append(_HTML_SPACE.sub(" ", child))
            elif isinstance(child, Tag):
                self._element(child)

    def _element(self, child: Tag) -> None:
        if child.name == "br":
            self.end_line()
        elif child.name in _BLOCKS:
            self.end_line()
            self.walk(child)
            self.end_line()
        else:
            if child.name in _CELLS and self.current:
                self.current.append("\t")
            self.walk(child)


def _only(elements: list[Tag]) -> Tag | None:
    return elements[0] if len(elements) == 1 else None


def _pdf_text(content: bytes, field: str) -> str:
    if not content.lstrip()[:5] == b"%PDF-":
        raise ExtractionError("is not a PDF (a PDF file starts with %PDF-)", field)
    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("is a PDF protected by a password: upload an unprotected copy or paste the "
                                  "text", field)
        if len(reader.pages) > MAX_PDF_PAGES:
            raise ExtractionError(f"is a PDF of {len(reader.pages):,} pages; at most {MAX_PDF_PAGES:,} are read: "
                                  "upload the part that is quoted, or paste its text", field)
        pages = [(page.extract_text() or "").strip("\n") for page in reader.pages]
    except ExtractionError:
        raise
    except Exception as exc:  # a damaged file makes pypdf raise many types; each is the editor's to fix
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ExtractionError(f"is a PDF that cannot be read ({reason}): paste the text instead", field) from None
    if not any(page.strip() for page in pages):
        raise ExtractionError("is a PDF without a text layer (a scan?): run OCR on it or paste the text", field)
    return "\n\n".join(page for page in pages if page.strip())


def provenance(filename: str, content: bytes) -> dict[str, Any]:
    """What the log records of the file a text was taken from: its name, type, size and SHA-256."""
    name = PurePath(filename.replace("\\", "/")).name or "upload"
    media_type = MEDIA_TYPES.get(PurePath(name).suffix.lower(), "application/octet-stream")
    return {"name": name[:300], "media_type": media_type, "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest()}


@dataclass(frozen=True)
class Upload:
    """A document's text as it will be kept, and the file it was taken from (None when it was pasted)."""

    text: str
    file: dict[str, Any] | None

    @classmethod
    def of_file(cls, filename: str, content: bytes, field: str = "file") -> Upload:
        return cls(text_of(filename, content, field), provenance(filename, content))

    @classmethod
    def of_text(cls, pasted: str, field: str = "text") -> Upload:
        return cls(tidy(pasted, field), None)


def check_document_id(document_id: str, field: str = "document") -> str:
    """The id a document is registered under (its subject is ``source/<id>``), or a refusal that says what one is."""
    if not STREAM_PATTERN.fullmatch(stream_of(document_id)):
        raise ValidationError(field, f"{document_id[:130]!r} is not a document id: lowercase letters, digits and "
                                     "hyphens, starting and ending with a letter or digit (e.g. mofa-jp-2023-2plus2)")
    return document_id


def document_event(document_id: str, metadata: Mapping[str, Any], published: str, upload: Upload,
                   event_id: str | None = None) -> NewEvent:
    """The ``DocumentRegistered`` event of a document: its metadata, its text and the file it came from.

    It is registered once: ``expected_version=0`` makes a second registration of the same id a conflict.
    """
    check_document_id(document_id)
    data = {**{k: v for k, v in metadata.items() if v not in (None, "")}, "text": upload.text}
    if upload.file is not None:
        data["file"] = upload.file
    return NewEvent(stream_of(document_id), DOCUMENT_TYPE, published, data, [], event_id, expected_version=0)


View = TypeVar("View", bound=Callable[..., Any])


def carries_documents(view: View) -> View:
    """Mark a view whose requests may carry a whole document: their size limits are raised before anything
    (the CSRF check included) reads the body."""
    view.carries_documents = True  # type: ignore[attr-defined]
    return view


def _raise_limits() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "carries_documents", False):
        request.max_content_length = MAX_DOCUMENT_REQUEST
        request.max_form_memory_size = MAX_DOCUMENT_REQUEST


def init_app(app: Flask) -> None:
    """Registered before the CSRF check, which reads a form's body first."""
    app.before_request(_raise_limits)
