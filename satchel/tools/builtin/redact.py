"""``redact``: find and mask personal data before text leaves the device (the privacy scenarios rest on it).

Each detector is a pattern plus a check that rules out look-alikes: cards must pass Luhn and carry a known issuer
prefix, IBANs must have their country's length and pass the ISO 7064 mod-97 check, IP addresses must parse, a date
counts as a date of birth only next to words such as "born" or "DOB". Overlaps resolve by precedence (an e-mail
beats the name inside it, a card beats the phone-like digits it contains). Offsets are Python string indices
(Unicode code points) into the original text.

Every pattern runs in time linear in the text: repetitions are bounded or possessive, so no crafted run of digits
or separators can make the regex engine try exponentially many ways to split it, and the overlap check marks
taken characters in a bytearray instead of comparing each finding with every earlier one. The names a caller may
pass are bounded too (``MAX_NAMES`` names of at most ``MAX_NAME_CHARS`` characters), since the name pattern tries
each of them at every position.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Generator, Iterator
from typing import Annotated, Literal, TypedDict

from satchel.tools.schema import Constraint
from satchel.tools.tool import Progress, ToolError, tool

Kind = Literal["email", "phone", "card", "iban", "ip", "date_of_birth", "name"]
ALL_KINDS: tuple[Kind, ...] = ("email", "iban", "card", "ip", "date_of_birth", "phone", "name")
"""Detectors in precedence order: when two findings overlap, the earlier kind wins."""
DIGIT_KINDS = frozenset({"phone", "card", "iban"})
LABELS: dict[str, str] = {
    "email": "EMAIL",
    "phone": "PHONE",
    "card": "CARD",
    "iban": "IBAN",
    "ip": "IP",
    "date_of_birth": "DOB",
    "name": "NAME",
}


class Finding(TypedDict):
    """One piece of personal data that was masked.

    Attributes:
        kind: What was found.
        start: Offset of its first character in the original text.
        end: Offset just past its last character in the original text.
    """

    kind: str
    start: int
    end: int


class RedactResult(TypedDict):
    """The masked text and what was masked.

    Attributes:
        text: The input with every finding replaced.
        findings: Every finding, in text order.
        counts: Number of findings per kind.
    """

    text: str
    findings: list[Finding]
    counts: dict[str, int]


Span = tuple[int, int]

MAX_NAMES = 100
"""Most names one call may ask to mask: the name pattern's cost per character of text grows with their number."""
MAX_NAME_CHARS = 200
"""Longest name one call may ask to mask."""

EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@(?:[^\W_](?:[\w\-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w\-])")

_CARD_CANDIDATE = re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d])")
_CARD_PREFIXES = re.compile(
    r"^(?:4|5[1-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[47]|3(?:0[0-5]|[68])|6(?:011|5|4[4-9]|2)|35)"
)

IBAN_LENGTHS = {
    **dict.fromkeys(["NO"], 15),
    **dict.fromkeys(["BE"], 16),
    **dict.fromkeys(["DK", "FI", "FO", "GL", "NL"], 18),
    **dict.fromkeys(["MK", "SI"], 19),
    **dict.fromkeys(["AT", "BA", "EE", "KZ", "LT", "LU", "XK"], 20),
    **dict.fromkeys(["CH", "HR", "LI", "LV"], 21),
    **dict.fromkeys(["BG", "BH", "CR", "DE", "GB", "GE", "IE", "ME", "RS", "VA"], 22),
    **dict.fromkeys(["AE", "GI", "IL", "IQ", "TL"], 23),
    **dict.fromkeys(["AD", "CZ", "ES", "MD", "PK", "RO", "SA", "SE", "SK", "TN", "VG"], 24),
    **dict.fromkeys(["PT", "ST"], 25),
    **dict.fromkeys(["IS", "TR"], 26),
    **dict.fromkeys(["FR", "GR", "IT", "MC", "MR", "SM"], 27),
    **dict.fromkeys(["AL", "AZ", "BY", "CY", "DO", "GT", "HU", "LB", "PL", "SV"], 28),
    **dict.fromkeys(["BR", "EG", "PS", "QA", "UA"], 29),
    **dict.fromkeys(["JO", "KW", "MU"], 30),
    **dict.fromkeys(["MT", "SC"], 31),
    **dict.fromkeys(["LC"], 32),
}
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})")

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4_BODY = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
IPV4 = re.compile(rf"(?<![\d.]){_IPV4_BODY}(?!\d|\.\d)")
_IPV6_CANDIDATE = re.compile(
    rf"(?<![0-9A-Za-z:])(?:[0-9A-Fa-f]{{0,4}}:){{2,7}}(?:{_IPV4_BODY}|[0-9A-Fa-f]{{1,4}}|:)?(?![0-9A-Za-z:])"
)

_MONTHS = (
    "jan(?:uary|uar|vier)?|feb(?:ruary|ruar)?|f[ée]v(?:rier)?|m[aä]r(?:ch|z|s)?|apr(?:il)?|avr(?:il)?|may|mai|"
    "june?|juin|juni|july?|juil(?:let)?|juli|aug(?:ust)?|ao[uû]t|sep(?:t(?:ember)?)?|okt(?:ober)?|oct(?:ober|obre)?|"
    "nov(?:ember|embre)?|de[cz](?:ember|embre)?|d[ée]c(?:embre)?"
)
DATE = re.compile(
    rf"""(?ix)
    (?<![\w./-])(?:
        \d{{4}}-\d{{1,2}}-\d{{1,2}}                                  # 1990-05-17
      | \d{{1,2}}[./-]\d{{1,2}}[./-](?:\d{{4}}|\d{{2}})              # 17/05/1990, 05-17-90, 17.05.1990
      | \d{{1,2}}(?:st|nd|rd|th)?\.?\s+(?:of\s+)?(?:{_MONTHS})\.?,?\s+\d{{4}}   # 17 May 1990, 17. Mai 1990
      | (?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}     # May 17, 1990
    )(?![\w/-]|\.\d)
    """
)
DOB_CUE = re.compile(
    r"(?i)\b(?:born|date\s+of\s+birth|birth\s*date|birthday|d\.?o\.?b\.?|geboren|geb\.|"
    r"n[ée]e?\b|nacid[oa]|nat[oa]|nascid[oa]|geboortedatum|fecha\s+de\s+nacimiento|date\s+de\s+naissance)"
)
_DOB_WINDOW = 40

# Up to eight digit groups. Each group's digits are possessive (``\d{1,5}+``): a backtracking engine would otherwise
# try every way of cutting a long digit run into groups (exponential in the run's length) before giving up on it.
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|\b00)?\(?\d{1,5}+\)?(?:[ .\-/]?\(?\d{1,5}+\)?){1,7}(?![\w])")
_PHONE_CUE = re.compile(
    r"(?i)\b(?:tel|phone|mobile|mob|cell|fax|call|ph|telefon|t[ée]l[ée]phone|tel[ée]fono|handy)\b"
)
_DATE_LIKE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$")


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    """ISO 13616: right length for the country and mod-97 of the rearranged number equals 1."""
    compact = compact.upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def find_emails(text: str) -> Iterator[Span]:
    for match in EMAIL.finditer(text):
        yield match.span()


def find_cards(text: str) -> Iterator[Span]:
    for match in _CARD_CANDIDATE.finditer(text):
        raw = match.group()
        digits = re.sub(r"\D", "", raw)
        if len(set(re.findall(r"[ \-]", raw))) > 1:
            continue  # mixed separators: not how anyone writes a card number
        if 13 <= len(digits) <= 19 and _CARD_PREFIXES.match(digits) and luhn_valid(digits):
            yield match.span()


def find_ibans(text: str) -> Iterator[Span]:
    for match in _IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(match.group(1).upper())
        if length is None:
            continue
        position, taken = match.start(), 0
        compact: list[str] = []
        while position < len(text) and taken < length:
            char = text[position]
            if char.isascii() and char.isalnum():
                compact.append(char)
                taken += 1
            elif not (char == " " and compact and position + 1 < len(text) and text[position + 1].isalnum()):
                break
            position += 1
        after = text[position : position + 1]
        if taken == length and not (after.isascii() and after.isalnum()) and iban_valid("".join(compact)):
            yield match.start(), position


def find_ips(text: str) -> Iterator[Span]:
    """IPv6 first, so an IPv4-mapped address (::ffff:192.0.2.1) is one finding, not a v4 inside a v6."""
    for match in _IPV6_CANDIDATE.finditer(text):
        candidate = match.group()
        if candidate.count(":") < 2 or (re.fullmatch(r"[\d:]+", candidate) and "::" not in candidate):
            continue  # times such as 12:30:45 are not addresses
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield match.span()
    for match in IPV4.finditer(text):
        yield match.span()


def find_dates_of_birth(text: str) -> Iterator[Span]:
    for cue in DOB_CUE.finditer(text):
        window_end = min(len(text), cue.end() + _DOB_WINDOW)
        date = DATE.search(text, cue.end(), window_end)
        if date is not None and date.end() <= window_end:
            yield date.span()


def _looks_like_phone(candidate: str, text: str, start: int) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15 or candidate.count("(") != candidate.count(")"):
        return False
    if _DATE_LIKE.match(candidate):
        return False
    prefixed = candidate.startswith(("+", "00", "("))
    groups = re.split(r"[ .\-/()]+", candidate.strip("()+"))
    groups = [group for group in groups if group]
    if len(groups) == 1 and not prefixed:
        # A bare run of digits is a phone number only where the text says so ("Tel 5551234567").
        return _PHONE_CUE.search(text, max(0, start - 25), start) is not None
    if not prefixed and candidate.count(".") == 1 and len(groups) == 2:
        return False  # a decimal number
    return prefixed or not (len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:]))


def find_phones(text: str) -> Iterator[Span]:
    for match in _PHONE_CANDIDATE.finditer(text):
        start, end = match.span()
        candidate = match.group()
        if candidate.endswith(")") and candidate.count("(") < candidate.count(")"):
            candidate, end = candidate[:-1], end - 1
        if _looks_like_phone(candidate, text, start):
            yield start, end


def name_finder(names: list[str]) -> Callable[[str], Iterator[Span]]:
    """A detector for the caller's names: whole words, any case, any whitespace between parts, longest first."""
    cleaned = sorted({" ".join(name.split()) for name in names if name.strip()}, key=len, reverse=True)
    if not cleaned:
        return lambda text: iter(())
    parts = [r"\s+".join(re.escape(piece) for piece in name.split(" ")) for name in cleaned]
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)
    return lambda text: (match.span() for match in pattern.finditer(text))


def _replacement(original: str, kind: str, style: str, keep_last: int) -> str:
    keep = keep_last if kind in DIGIT_KINDS else 0
    if style == "label":
        tail = ""
        if keep:
            tail = " …" + "".join(re.findall(r"[0-9A-Za-z]", original))[-keep:]
        return f"[{LABELS[kind]}{tail}]"
    masked = list(original)
    kept = 0
    for index in range(len(masked) - 1, -1, -1):
        if masked[index].isalnum():
            if kept < keep and masked[index].isdigit():
                kept += 1
            else:
                masked[index] = "*"
    return "".join(masked)


@tool(title="Redact personal data")
def redact(
    text: str,
    kinds: list[Kind] | None = None,
    names: Annotated[
        list[Annotated[str, Constraint(max_length=MAX_NAME_CHARS)]], Constraint(max_items=MAX_NAMES)
    ]
    | None = None,
    keep_last: Annotated[int, Constraint(minimum=0, maximum=8)] = 0,
    style: Literal["label", "mask"] = "label",
) -> Generator[Progress, None, RedactResult]:
    """Find and mask personal data: e-mail addresses, phone numbers, payment cards (Luhn-checked), IBANs
    (checksum-checked), IPv4/IPv6 addresses, dates of birth and the names you list.

    Args:
        text: The text to redact.
        kinds: Which kinds of data to look for; all of them when omitted.
        names: Names of people or organisations to mask wherever they occur (whole words, any case); at most
            100 names of at most 200 characters each.
        keep_last: Keep this many trailing digits of phone, card and IBAN findings visible (e.g. 4).
        style: "label" replaces a finding with a tag such as [EMAIL]; "mask" keeps its shape and stars out
            letters and digits.
    """
    wanted = set(kinds) if kinds is not None else set(ALL_KINDS)
    if "name" in wanted and kinds is not None and not names:
        raise ToolError("kinds includes 'name' but no names were given: pass the names to mask in 'names'")
    detectors: dict[str, Callable[[str], Iterator[Span]]] = {
        "email": find_emails,
        "iban": find_ibans,
        "card": find_cards,
        "ip": find_ips,
        "date_of_birth": find_dates_of_birth,
        "phone": find_phones,
        "name": name_finder(names or []),
    }
    order = [kind for kind in ALL_KINDS if kind in wanted]
    taken: list[tuple[int, int, str]] = []
    # One byte per character of text, 1 where a finding already took it: checking a new finding costs its length,
    # and the findings of one detector never overlap much, so resolving overlaps is linear in the text.
    covered = bytearray(len(text))
    for step, kind in enumerate(order):
        for start, end in detectors[kind](text):
            if start < end and covered.find(1, start, end) == -1:
                covered[start:end] = b"\x01" * (end - start)
                taken.append((start, end, kind))
        yield Progress(step + 1, len(order), f"looked for {kind}")
    taken.sort()
    pieces: list[str] = []
    cursor = 0
    for start, end, found in taken:
        pieces += [text[cursor:start], _replacement(text[start:end], found, style, keep_last)]
        cursor = end
    pieces.append(text[cursor:])
    counts: dict[str, int] = {}
    for _, _, found in taken:
        counts[found] = counts.get(found, 0) + 1
    return {
        "text": "".join(pieces),
        "findings": [{"kind": found, "start": start, "end": end} for start, end, found in taken],
        "counts": counts,
    }
