"""Words as the read models compare them: accents removed, case folded, split into runs of letters and digits."""

from __future__ import annotations

import re
import unicodedata

# Combining marks NFKD splits off accented letters: Latin, Greek and Cyrillic diacritics, their extensions,
# marks for symbols and half marks, and the kana voicing marks.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u3099\u309a]")
WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """``text`` with its accents removed and in lower case, as SQLite's unicode61 tokenizer folds it (``ß`` stays).
    """
    if text.isascii():
        return text.lower()
    return _MARKS.sub("", unicodedata.normalize("NFKD", text)).lower()


def words(text: str) -> list[str]:
    """The folded words of ``text``: runs of letters and digits, as both backends index them."""
    return WORD.findall(fold(text))
