"""Sentence and word segmentation shared by the text tools, without any language's word lists.

Words are Unicode letter/digit runs (``\\w`` minus the underscore), with inner apostrophes and hyphens kept
("don't", "état-major"). Scripts written without spaces (Han, kana, Thai…) are cut into characters, so counts and
similarities still mean something there. A sentence ends at . ! ? … or their CJK forms when what follows is a
space and not a lower-case letter, or at a blank line; single capitals and a short list of abbreviations that
are common across Latin-script languages (Dr., z.B., etc.) do not end one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WORD = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*")
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\uac00-\ud7af]")
_BOUNDARY = re.compile(
    r"([.!?\u2026]+|[\u3002\uff01\uff1f]+)([\"'\u201d\u2019\u00bb)\]]*)(\s+|$)|(?<=[\u3002\uff01\uff1f])|\n\s*\n"
)
_ABBREVIATIONS = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "sr",
        "jr",
        "vs",
        "etc",
        "eg",
        "ie",
        "cf",
        "al",
        "fig",
        "no",
        "nr",
        "p",
        "pp",
        "vol",
        "ca",
        "approx",
        "dept",
        "inc",
        "ltd",
        "co",
        "bzw",
        "usw",
        "zb",
        "dh",
        "ggf",
        "sog",
        "mme",
        "mlle",
        "mm",
        "sra",
        "sr",
        "dña",
        "ud",
        "uds",
        "sig",
        "dott",
        "ing",
    ]
)


_LAST_WORD = re.compile(r"([^\W\d_][^\W_.]*(?:\.[^\W\d_]+)*)$")
_LOOKBACK = 40
"""Characters before a full stop searched for the word it ends: bounded, so splitting stays linear."""


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    end: int


def words(text: str) -> list[str]:
    """The words of ``text`` in order; unspaced scripts contribute one token per character."""
    found: list[str] = []
    for match in WORD.finditer(text):
        token = match.group()
        if _UNSPACED.search(token):
            found.extend(char for char in token if not char.isspace())
        else:
            found.append(token)
    return found


def _ends_sentence(text: str, dot_start: int, after: int, terminator: str) -> bool:
    if terminator.startswith(".") and len(terminator) == 1:
        previous = _LAST_WORD.search(text, max(0, dot_start - _LOOKBACK), dot_start)
        if previous:
            word = previous.group(1)
            if len(word) == 1 and word.isupper():
                return False
            if word.replace(".", "").casefold() in _ABBREVIATIONS:
                return False
    following = text[after : after + 1]
    return not (following and following.islower())


def sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences with their character spans in ``text``."""
    found: list[Sentence] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.group(1) is not None:
            if not _ends_sentence(text, match.start(1), match.end(), match.group(1)):
                continue
            end = match.end(2)
        else:
            end = match.start()
        _add(found, text, start, end)
        start = match.end()
    _add(found, text, start, len(text))
    return found


def _add(found: list[Sentence], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped or not WORD.search(stripped):
        return
    offset = start + (len(piece) - len(piece.lstrip()))
    found.append(Sentence(stripped, offset, offset + len(stripped)))
