"""Text rules: normalisation that defeats cheap disguises, and text aimed at the auditor.

Injected text is matched after NFKC normalisation (full-width and compatibility forms
fold to ASCII), with zero-width and soft-hyphen characters removed, common Cyrillic and
Greek look-alikes mapped to Latin, and whitespace collapsed, so
"ｉｇｎｏｒｅ\u200b previous instructions" and "ignоre" (Cyrillic о) match as plainly typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u034f\u180e"), None)
# look-alikes NFKC keeps apart from Latin (the usual homoglyph substitutions)
CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁԛԝАВЕКМНОРСТХІЈЅαοκνρτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdqwABEKMHOPCTXIJSaoknptuxABEZHIKMNOPTYX",
)
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-case text with disguises removed, for matching (never for quoting)."""
    text = unicodedata.normalize("NFKC", text).translate(ZERO_WIDTH).translate(CONFUSABLES)
    return _SPACES.sub(" ", text).lower()


@dataclass(frozen=True)
class TextHit:
    pattern: str  # the rulebook pattern that matched (the flag's key)
    matched: str  # the normalised text that matched, for the summary


@lru_cache(maxsize=32)
def _compile(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


_NOT_LETTERS = re.compile(r"[^a-z]+")
# digits and symbols read as the letters they stand for in leetspeak ("1gn0r3 pr3v10u5")
LEET = str.maketrans("013457@$!|", "oieastasii")


def find_injections(line: str, patterns: tuple[str, ...], compact: tuple[str, ...] = ()) -> TextHit | None:
    """The first rulebook pattern that matches the normalised line (or compact phrase its letters hold), if any."""
    if not line or len(line) < 8:
        return None
    norm = normalize(line)
    for pattern, rx in zip(patterns, _compile(patterns)):
        m = rx.search(norm)
        if m:
            return TextHit(pattern=pattern, matched=m.group(0))
    if compact:
        plain = _NOT_LETTERS.sub("", norm)
        leet = _NOT_LETTERS.sub("", norm.translate(LEET)) if any(ch in norm for ch in "013457@$!|") else plain
        for phrase in compact:
            if phrase in plain or phrase in leet:
                return TextHit(pattern=phrase, matched=phrase)
    return None


def quotable(line: str) -> str:
    """The part of a raw line worth quoting: the line without its indentation."""
    return line.strip()
