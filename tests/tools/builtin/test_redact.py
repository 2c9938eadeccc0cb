"""redact: each kind on realistic text, the look-alikes it must leave alone, options, and hostile input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from satchel.tools.builtin.redact import MAX_NAME_CHARS, MAX_NAMES, iban_valid, luhn_valid, redact

Structured = Callable[..., dict[str, Any]]


def kinds_found(result: dict[str, Any]) -> list[str]:
    return [finding["kind"] for finding in result["findings"]]


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "(555) 123-4567",
        "+49 30 123456",
        "+1 (555) 123-4567",
        "555-123-4567",
        "0049 30 123456",
        "+33 1 42 68 53 00",
        "020 7946 0958",
        "555.123.4567",
    ],
)
def test_international_phone_formats_are_masked(structured: Structured, phone: str) -> None:
    result = structured("redact", text=f"Call me on {phone} tomorrow.")
    assert result["text"] == "Call me on [PHONE] tomorrow."
    assert kinds_found(result) == ["phone"]


@pytest.mark.parametrize(
    "number",
    [
        "2024-01-15",
        "15/01/2024",
        "3.14159265",
        "8 336 817",
        "12:30:45",
        "Order 123456789",
        "ISBN 978",
        "v1.2",
    ],
)
def test_numbers_that_are_not_phones_are_left_alone(structured: Structured, number: str) -> None:
    text = f"Reference: {number} (see above)."
    assert structured("redact", text=text)["findings"] == []


def test_bare_digit_run_is_a_phone_only_after_a_phone_word(structured: Structured) -> None:
    assert kinds_found(structured("redact", text="Tel: 5551234567")) == ["phone"]
    assert structured("redact", text="Invoice 5551234567")["findings"] == []


def test_cards_are_masked_only_when_luhn_and_issuer_check_out(structured: Structured) -> None:
    text = "Visa 4111 1111 1111 1111, Amex 3782-822463-10005, bad 4111 1111 1111 1112, random 9999 9999 9999 9995."
    result = structured("redact", text=text, kinds=["card"])
    assert result["text"] == "Visa [CARD], Amex [CARD], bad 4111 1111 1111 1112, random 9999 9999 9999 9995."


def test_luhn() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")


def test_ibans_are_masked_only_with_a_valid_checksum(structured: Structured) -> None:
    text = "Pay DE89 3704 0044 0532 0130 00 or GB82WEST12345698765432, not DE89 3704 0044 0532 0130 01."
    result = structured("redact", text=text, kinds=["iban"])
    assert result["text"] == "Pay [IBAN] or [IBAN], not DE89 3704 0044 0532 0130 01."


def test_iban_checksum_and_country_length() -> None:
    assert iban_valid("FR1420041010050500013M02606")
    assert iban_valid("NL91ABNA0417164300")
    assert not iban_valid("NL91ABNA041716430")  # one character short for NL
    assert not iban_valid("XX91ABNA0417164300")


def test_ipv4_and_ipv6_addresses(structured: Structured) -> None:
    text = "Hosts 10.0.0.1, 256.1.1.1, fe80::1ff:fe23:4567:890a and ::ffff:192.0.2.128; at 10:30:00 we met."
    result = structured("redact", text=text, kinds=["ip"])
    assert result["text"] == "Hosts [IP], 256.1.1.1, [IP] and [IP]; at 10:30:00 we met."


def test_dates_of_birth_need_a_birth_cue(structured: Structured) -> None:
    text = (
        "Patient born 3 March 1985 was seen on 2024-02-01. DOB: 1990-05-17. "
        "Date of birth 05/17/1990. Geboren am 17.05.1990. The invoice date is 17.05.1990."
    )
    result = structured("redact", text=text, kinds=["date_of_birth"])
    assert result["text"] == (
        "Patient born [DOB] was seen on 2024-02-01. DOB: [DOB]. "
        "Date of birth [DOB]. Geboren am [DOB]. The invoice date is 17.05.1990."
    )


def test_emails_including_subdomains_and_plus_tags(structured: Structured) -> None:
    text = "Write to first.last+tag@mail.example.co.uk or ops@x.io; not user@localhost or @handle."
    result = structured("redact", text=text, kinds=["email"])
    assert result["text"] == "Write to [EMAIL] or [EMAIL]; not user@localhost or @handle."


def test_names_whole_words_any_case_and_longest_first(structured: Structured) -> None:
    text = "ANNA meets Anna Schmidt and Annabelle; anna's cat."
    result = structured("redact", text=text, names=["Anna", "Anna  Schmidt"], kinds=["name"])
    assert result["text"] == "[NAME] meets [NAME] and Annabelle; [NAME]'s cat."


def test_email_wins_over_the_name_inside_it(structured: Structured) -> None:
    result = structured("redact", text="anna@example.org", names=["anna"])
    assert kinds_found(result) == ["email"]


def test_findings_carry_spans_into_the_original_text(structured: Structured) -> None:
    text = "Mail bob@example.com, card 4111-1111-1111-1111."
    result = structured("redact", text=text)
    spans = {finding["kind"]: text[finding["start"] : finding["end"]] for finding in result["findings"]}
    assert spans == {"email": "bob@example.com", "card": "4111-1111-1111-1111"}
    assert result["counts"] == {"email": 1, "card": 1}


def test_keep_last_digits_in_label_and_mask_styles(structured: Structured) -> None:
    text = "Card 4111 1111 1111 1111, phone +44 20 7946 0958."
    labelled = structured("redact", text=text, keep_last=4)
    assert labelled["text"] == "Card [CARD …1111], phone [PHONE …0958]."
    masked = structured("redact", text=text, keep_last=4, style="mask")
    assert masked["text"] == "Card **** **** **** 1111, phone +** ** **** 0958."


def test_name_kind_without_names_is_a_tool_error(tool_error: Callable[..., str]) -> None:
    assert "no names were given" in tool_error("redact", text="x", kinds=["name"])


def test_unknown_kind_is_an_argument_error(tool_error: Callable[..., str]) -> None:
    message = tool_error("redact", text="x", kinds=["ssn"])
    assert "kinds[0]" in message and "'ssn' is not one of" in message


def test_text_without_personal_data_is_unchanged(structured: Structured) -> None:
    text = "Der Zug fährt um 10:15 Uhr ab Gleis 7; Ticketpreis 39,90 €."
    result = structured("redact", text=text)
    assert result == {"text": text, "findings": [], "counts": {}}


def test_adversarial_input_finishes_quickly(structured: Structured) -> None:
    nasty = ("1-" * 20000) + "@" + ("a." * 20000) + ("(" * 5000) + "+" * 5000 + " 4" * 20000
    result = structured("redact", text=nasty)
    assert isinstance(result["text"], str)


# The two inputs below took the pattern-and-overlap code before linear redaction minutes (digit runs: about 1 s per
# KB; 50,000 addresses: about a minute); bench/bench_redact.py prints how fast they go now.


def test_long_digit_runs_are_not_phones_and_do_not_backtrack(structured: Structured) -> None:
    runs = ("0" * 40 + "x ") * 5000
    result = structured("redact", text=runs + "Call +44 20 7946 0958.")
    assert result["text"] == runs + "Call [PHONE]."
    assert result["findings"] == [{"kind": "phone", "start": len(runs) + 5, "end": len(runs) + 21}]


def test_tens_of_thousands_of_findings_resolve_overlaps_in_linear_time(structured: Structured) -> None:
    addresses = [f"10.{i // 62500}.{i // 250 % 250}.{i % 250}" for i in range(50_000)]
    result = structured("redact", text=" ".join(addresses), kinds=["ip", "phone"])
    assert result["counts"] == {"ip": 50_000}
    assert result["text"] == " ".join(["[IP]"] * 50_000)


def test_names_are_bounded_in_number_and_length(tool_error: Callable[..., str]) -> None:
    too_many = tool_error("redact", text="x", names=[f"n{i}" for i in range(MAX_NAMES + 1)])
    assert f"names: must have at most {MAX_NAMES} items" in too_many
    too_long = tool_error("redact", text="x", names=["a" * (MAX_NAME_CHARS + 1)])
    assert f"names[0]: must have at most {MAX_NAME_CHARS} characters" in too_long
    description = redact.input_schema["properties"]["names"]["description"]
    assert f"at most {MAX_NAMES} names of at most {MAX_NAME_CHARS} characters" in description
