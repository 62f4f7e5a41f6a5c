"""Documents made by the tests, one per kind an editor registers: pasted text, and .txt, .html and .pdf files."""

from __future__ import annotations

from tests.service.test_uploads import make_pdf

#: The words every made document holds (in its own markup), so one verbatim quote cites each of them.
LINES = ["Communiqué conjoint franco-japonais, 14 juillet 2026.",
         "Les deux ministres ont signé à Tokyo un accord sur la sécurité de l'information sous-marine.",
         "Ils se reverront en 2027."]
QUOTE = "ont signé à Tokyo un accord sur la sécurité de l'information sous-marine"
#: Close to the document, but not in it: the log answers with the passage it resembles.
NOT_VERBATIM = "ont signé à Paris un accord sur la sécurité de l'information sous-marine"
TEXT = "\n".join(LINES)


def made(kind: str) -> tuple[str, bytes]:
    """A file name and its bytes for ``kind`` (txt, html, pdf), each holding LINES."""
    if kind == "txt":
        return "communique.txt", ("\ufeff" + "\r\n".join(LINES) + "\r\n").encode()
    if kind == "html":
        body = "".join(f"<p>{line.replace('signé', '<em>signé</em>')}</p>" for line in LINES)
        page = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Communiqué</title>'
                f"<script>var x = 1;</script></head><body><nav>Accueil · Presse</nav><main>{body}</main>"
                f"<footer>© Ministère</footer></body></html>")
        return "communique.html", page.encode()
    if kind == "pdf":
        return "communique.pdf", make_pdf([LINES[:2], LINES[2:]], invariant=1)  # the same bytes every time
    raise ValueError(kind)
