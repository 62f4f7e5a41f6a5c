"""Text every format the chronology publishes can carry: HTML pages, JSON, and Atom, which is XML 1.0.

XML 1.0 has no way to write most C0 control characters (a form feed pasted
from a PDF, a NUL), the surrogates, U+FFFE or U+FFFF: one of them in an
entry makes the whole feed document unwritable. New text is refused with the
field named (``validation``); text a log already holds from before is
replaced with U+FFFD wherever it is rendered (``xml_safe``).
"""

from __future__ import annotations

import re
import unicodedata

#: Characters outside XML 1.0's Char production: C0 controls but tab, LF and CR; surrogates; U+FFFE; U+FFFF.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD (most text has none)."""
    return XML_ILLEGAL.sub(REPLACEMENT, text) if XML_ILLEGAL.search(text) else text


def illegal_character(text: str) -> str | None:
    """How to name the first character of ``text`` XML 1.0 cannot carry ('U+000C FORM FEED'), or None."""
    found = XML_ILLEGAL.search(text)
    if found is None:
        return None
    char = found.group()
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(ord(char), "a control character")
    return f"U+{ord(char):04X} ({name})"


_CONTROL_NAMES = {0x00: "NULL", 0x08: "BACKSPACE", 0x0B: "LINE TABULATION", 0x0C: "FORM FEED",
                  0x1B: "ESCAPE", 0xFFFE: "a noncharacter", 0xFFFF: "a noncharacter"}
