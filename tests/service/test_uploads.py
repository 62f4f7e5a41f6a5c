"""Uploads: the text kept for a registered document, from .txt, .html and .pdf files made here."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import reportlab
from pypdf import PdfWriter
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from events.quotes import locate
from service.uploads import ExtractionError, text_of, tidy

#: A TrueType font reportlab ships (Bitstream Vera): it has é, œ, « », and the ﬁ and ﬂ ligatures.
VERA = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"

BOILERPLATE_PAGE = """<!DOCTYPE html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <title>Déclaration conjointe — Ministère</title>
  <style>body { font-family: serif; } .x::before { content: "STYLE-TEXT"; }</style>
  <script>var tracking = "SCRIPT-TEXT";</script>
</head>
<body>
  <div class="cookie-banner">Nous utilisons des cookies. <button>Accepter</button></div>
  <header><a href="/">Ministère de l'Europe</a>
    <nav><ul><li><a href="/a">Accueil</a></li><li><a href="/b">Actualités</a></li></ul></nav></header>
  <main>
    <article>
      <h1>Déclaration conjointe de la 3<sup>e</sup> session « 2+2 »</h1>
      <p>1. Les ministres des Affaires étrangères et de la Défense de la France et du Japon
         <em>se sont réunis</em> le 6&nbsp;janvier 2017 à Paris, pour la 3e session.</p>
      <p>2. Ils ont salué les travaux menés dans le cadre du <a href="/c">comité conjoint</a> sur
         le contrôle des exportations.<br>Une ligne après un saut de ligne.</p>
      <ul><li>Premier point</li><li>Second point</li></ul>
      <figure><img src="x.png" alt="photo"><figcaption>Les ministres à Paris.</figcaption></figure>
      <table><tr><th>Année</th><td>2017</td></tr></table>
      <!-- a comment -->
      <aside class="share">Partager sur Twitter</aside>
      <noscript>Activez JavaScript</noscript>
    </article>
  </main>
  <footer><p>© Ministère 2017 — Mentions légales</p></footer>
  <script>console.log("SCRIPT-TEXT")</script>
</body>
</html>
"""

FRENCH_LINES = [
    "La coopération « 2+2 » a été efﬁcace et inﬂuente :",
    "l'œuvre commune des deux pays, à Paris — 6 janvier 2017.",
]


def make_pdf(pages: list[list[str]], font: str = "Vera", **options: object) -> bytes:
    """A PDF with a text layer: each page's lines drawn one under the other."""
    if font == "Vera" and "Vera" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("Vera", str(VERA)))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, **options)
    for lines in pages:
        text = pdf.beginText(50, 750)
        text.setFont(font, 11)
        for line in lines:
            text.textLine(line)
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# --- .txt --------------------------------------------------------------------------------------------


def test_a_text_file_loses_its_bom_and_windows_line_breaks_only():
    content = "\ufeffPremière ligne  \r\nDeuxième « ligne »\r\n\r\nTroisième\r\n".encode()
    assert text_of("statement.txt", content) == "Première ligne\nDeuxième « ligne »\n\nTroisième"


def test_a_text_file_is_kept_in_nfc():
    decomposed = "De\u0301claration".encode()
    assert text_of("a.txt", decomposed) == "D\u00e9claration"


def test_a_text_file_that_is_not_utf8_is_refused_with_the_byte_and_line():
    with pytest.raises(ExtractionError, match=r"file: is not UTF-8 \(byte 0xe9 on line 2\)"):
        text_of("a.txt", "ligne\ncoopération".encode("latin-1"))


def test_a_control_character_no_feed_can_carry_is_refused_with_its_line():
    with pytest.raises(ExtractionError, match=r"line 3 holds U\+0000 \(NULL\)"):
        text_of("a.txt", b"one\ntwo\nthree\x00\n")


def test_a_page_break_becomes_a_blank_line():
    assert text_of("a.txt", b"page one\x0cpage two") == "page one\n\npage two"


def test_an_empty_file_is_refused():
    with pytest.raises(ExtractionError, match="holds no text"):
        text_of("a.txt", b" \r\n\t\n")


def test_pasted_text_is_tidied_the_same_way():
    assert tidy("\ufeff  a \r\nb\r\n") == "  a\nb"


# --- .html -------------------------------------------------------------------------------------------


def test_an_html_page_gives_its_article_a_line_per_block():
    assert text_of("statement.html", BOILERPLATE_PAGE.encode()).split("\n") == [
        "Déclaration conjointe de la 3e session « 2+2 »",
        "1. Les ministres des Affaires étrangères et de la Défense de la France et du Japon se sont réunis le "
        "6\u00a0janvier 2017 à Paris, pour la 3e session.",
        "2. Ils ont salué les travaux menés dans le cadre du comité conjoint sur le contrôle des exportations.",
        "Une ligne après un saut de ligne.",
        "Premier point",
        "Second point",
        "Les ministres à Paris.",
        "Année\t2017",
    ]


def test_without_main_or_article_the_body_is_taken_without_the_site_around_it():
    page = BOILERPLATE_PAGE.replace("<main>", "").replace("</main>", "").replace("<article>", "").replace(
        "</article>", "")
    text = text_of("statement.htm", page.encode())
    assert text.startswith("Nous utilisons des cookies.\nDéclaration conjointe")  # an unmarked banner stays
    for boilerplate in ("SCRIPT-TEXT", "STYLE-TEXT", "Accueil", "Mentions légales", "Partager", "JavaScript",
                        "Accepter", "a comment", "Ministère de l'Europe"):
        assert boilerplate not in text


def test_an_html_page_is_read_in_its_declared_encoding():
    page = '<html><head><meta charset="windows-1252"></head><body><p>Coopération – « 2+2 »</p></body></html>'
    assert text_of("old.HTML", page.encode("windows-1252")) == "Coopération – « 2+2 »"


def test_a_quote_across_inline_markup_and_a_no_break_space_is_found_in_the_extracted_page():
    text = text_of("statement.html", BOILERPLATE_PAGE.encode())
    quote = "de la France et du Japon se sont réunis le 6 janvier 2017 à Paris"
    assert locate(text, quote)["exact"] == quote
    assert locate(text, "la 3e session « 2+2 » 1. Les ministres")["prefix"].endswith("Déclaration conjointe de ")


# --- .pdf --------------------------------------------------------------------------------------------


def test_a_french_pdf_keeps_its_accents_and_loses_its_ligatures():
    text = text_of("declaration.pdf", make_pdf([FRENCH_LINES, ["Deuxième page."]]))
    assert text == ("La coopération « 2+2 » a été efficace et influente :\n"
                    "l'œuvre commune des deux pays, à Paris — 6 janvier 2017.\n\n"
                    "Deuxième page.")


def test_a_quote_across_a_pdf_line_break_is_found():
    text = text_of("declaration.pdf", make_pdf([FRENCH_LINES]))
    assert locate(text, "efficace et influente : l'œuvre commune")["exact"] == (
        "efficace et influente : l'œuvre commune")


def test_a_pdf_with_a_standard_font_is_read_too():
    assert text_of("a.PDF", make_pdf([["Helvetica: coopération « 2+2 » œuvre"]], font="Helvetica")) == (
        "Helvetica: coopération « 2+2 » œuvre")


def test_a_pdf_without_a_text_layer_is_refused():
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.rect(50, 50, 200, 300, fill=1)  # what a scan's page is to a text extractor: no text at all
    pdf.showPage()
    pdf.save()
    with pytest.raises(ExtractionError, match=r"file: is a PDF without a text layer \(a scan\?\)"):
        text_of("scan.pdf", buffer.getvalue())


def test_a_pdf_protected_by_a_password_is_refused():
    locked = make_pdf([["secret"]], encrypt=StandardEncryption("password"))
    with pytest.raises(ExtractionError, match="protected by a password"):
        text_of("locked.pdf", locked)


def test_a_pdf_that_only_restricts_printing_is_read():
    restricted = make_pdf([["Lisible"]], encrypt=StandardEncryption("", ownerPassword="owner", canPrint=0))
    assert text_of("restricted.pdf", restricted) == "Lisible"


def test_an_aes_encrypted_pdf_anyone_may_open_is_read():
    # Official PDFs often restrict copying with AES and an empty user password; pypdf needs
    # `cryptography` (its "crypto" extra) to open them.
    writer = PdfWriter(clone_from=io.BytesIO(make_pdf([FRENCH_LINES[:1]])))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128", permissions_flag=0)
    locked = io.BytesIO()
    writer.write(locked)
    assert text_of("official.pdf", locked.getvalue()) == "La coopération « 2+2 » a été efficace et influente :"


@pytest.mark.parametrize(("content", "reason"), [
    (b"<html>not a pdf</html>", "is not a PDF"),
    (b"%PDF-1.4\n" + b"x" * 500, "is a PDF that cannot be read"),
])
def test_a_file_that_is_not_a_readable_pdf_is_refused(content, reason):
    with pytest.raises(ExtractionError, match=reason):
        text_of("a.pdf", content)


def test_a_truncated_pdf_is_refused():
    whole = make_pdf([FRENCH_LINES])
    with pytest.raises(ExtractionError, match="cannot be read"):
        text_of("a.pdf", whole[: len(whole) // 2])


# --- other types -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["report.docx", "notes", "scan.png"])
def test_an_unsupported_type_is_refused_with_what_to_do(name):
    with pytest.raises(ExtractionError, match=r"upload \.txt, \.html or \.pdf, or paste the text") as refused:
        text_of(name, b"whatever")
    assert refused.value.field == "file"
    assert repr(name) in str(refused.value)
