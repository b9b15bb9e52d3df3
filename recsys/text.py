"""Text as every part of recsys reads it: Unicode NFC, no invisible or control characters, single spaces."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise_text(value: object) -> str:
    r"""Unicode NFC, no zero-width or control characters, single spaces, stripped.

    >>> normalise_text("  Ame\u0301lie\u200b  in\n Paris ")
    'Amélie in Paris'
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    return " ".join(text.split())


def strip_accents(text: str) -> str:
    """The text with accents and other combining marks removed ("Agnès" → "Agnes").

    >>> strip_accents("Agnès Varda, Amélie")
    'Agnes Varda, Amelie'
    """
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


def fold(text: str) -> str:
    """Lowercase ASCII words separated by single spaces ("Agnès Varda" → "agnes varda").

    >>> fold("Agnès  Varda"), fold("Amélie (2001)!"), fold("Spider-Man: No Way Home")
    ('agnes varda', 'amelie 2001', 'spider man no way home')
    """
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace("'", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())
