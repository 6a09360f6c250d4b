"""Grounding the model's quotes: a quote becomes evidence only if it is in the log.

A quote is searched (whitespace-normalised) in the lines that were sent in that
request, starting with the line the model named; the label is a hint, never trusted.
A quote that spans lines is split and each piece must be found. The matched span is
then cited through `monitors.evidence.cite_text`, which checks it against the file
as it is on disk. A quote that fails anywhere is dropped and counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditor.models import Episode, Evidence
from monitors.evidence import cite_text
from monitors.llm.answers import Quote
from monitors.llm.windows import SentLine

MIN_QUOTE_CHARS = 8  # shorter quotes ("import", "df") match anywhere and prove nothing
MIN_PIECE_CHARS = 3
_LABEL = re.compile(r"^\s*\[L\d+\]\s?")


@dataclass
class Grounded:
    evidence: list[Evidence]
    dropped: int


def ground_quotes(episode: Episode, quotes: list[Quote], sent: list[SentLine]) -> Grounded:
    evidence: list[Evidence] = []
    dropped = 0
    for quote in quotes:
        found = ground_quote(episode, quote, sent)
        if found:
            evidence.extend(found)
        else:
            dropped += 1
    return Grounded(evidence=unique_evidence(evidence), dropped=dropped)


def ground_quote(episode: Episode, quote: Quote, sent: list[SentLine]) -> list[Evidence]:
    """Evidence for every piece of the quote, or [] when any piece is not in the sent lines."""
    pieces = [_strip_label(p) for p in quote.text.split("\n")]
    pieces = [p for p in pieces if len(p.strip()) >= MIN_PIECE_CHARS]
    if not pieces or sum(len(" ".join(p.split())) for p in pieces) < MIN_QUOTE_CHARS:
        return []
    order = _search_order(sent, _label_index(quote.line))
    found: list[Evidence] = []
    for piece in pieces:
        ev = _ground_piece(episode, piece, order)
        if ev is None:
            return []
        found.append(ev)
    return found


def _ground_piece(episode: Episode, piece: str, order: list[SentLine]) -> Evidence | None:
    pattern = whitespace_pattern(piece)
    for sl in order:
        m = pattern.search(sl.shown)
        if m is None:
            continue
        fragment = sl.line.text[m.start() : m.end()]  # shown and text share positions
        ev = cite_text(episode, sl.line.file, sl.line.file_line, fragment, sl.line.encoding)
        if ev is not None:
            return ev
    return None


def whitespace_pattern(text: str) -> re.Pattern[str]:
    """Matches `text` with any run of whitespace standing for any other."""
    return re.compile(r"\s+".join(re.escape(tok) for tok in text.split()))


def _search_order(sent: list[SentLine], hint: int | None) -> list[SentLine]:
    if hint is None:
        return sent
    return sorted(sent, key=lambda sl: abs(sl.line.index - hint))


def _label_index(label: str) -> int | None:
    m = re.search(r"\d+", label or "")
    return int(m.group(0)) if m else None


def _strip_label(piece: str) -> str:
    return _LABEL.sub("", piece, count=1)


def unique_evidence(evidence: list[Evidence]) -> list[Evidence]:
    seen: set[tuple[str, int, str]] = set()
    out = []
    for ev in evidence:
        key = (ev.file, ev.line, ev.excerpt)
        if key not in seen:
            seen.add(key)
            out.append(ev)
    return out
