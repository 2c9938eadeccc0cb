"""Which addresses the relay refuses, in every form they can be written, and what the operator's flags let through."""

from __future__ import annotations

import ipaddress

import pytest

from satchel.relay_guard import AddressRefused, AddressRules, address_kind, is_host


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.255.0.9", "a loopback address"),
        ("::1", "a loopback address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("10.0.0.1", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.20", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("100.64.0.1", "a carrier-grade NAT address"),
        ("100.127.255.254", "a carrier-grade NAT address"),
        ("224.0.0.251", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("192.0.2.1", "a special-purpose address"),
        ("::ffff:127.0.0.1", "a loopback address in IPv6 form (127.0.0.1)"),
        ("::ffff:10.0.0.1", "a private address in IPv6 form (10.0.0.1)"),
        ("::127.0.0.1", "a loopback address in IPv6 form (127.0.0.1)"),
        ("64:ff9b::a9fe:a9fe", "a link-local address in IPv6 form (169.254.169.254)"),
        ("2002:7f00:1::", "a loopback address in IPv6 form (127.0.0.1)"),
    ],
)
def test_non_public_addresses_are_named_for_what_they_are(address: str, kind: str) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "100.128.0.1"]
)
def test_public_addresses_pass(address: str) -> None:
    assert address_kind(ipaddress.ip_address(address)) is None


def test_one_private_address_refuses_the_whole_name() -> None:
    with pytest.raises(AddressRefused, match=r"^mcp\.example resolves to a private address 10\.0\.0\.7; "):
        AddressRules().check("mcp.example", ["93.184.215.14", "10.0.0.7"])
    assert AddressRules().check("mcp.example", ["93.184.215.14"]) == ["93.184.215.14"]


def test_an_unparsable_address_is_refused() -> None:
    with pytest.raises(AddressRefused, match="resolves to 'nonsense', which is not an IP address"):
        AddressRules().check("odd.example", ["nonsense"])


def test_allowed_hosts_are_matched_by_name_without_case_or_final_dot() -> None:
    rules = AddressRules.create(allowed_hosts=["NAS.Lan", "[fd00::5]"])
    assert rules.check("nas.lan.", ["192.168.1.5"]) == ["192.168.1.5"]
    assert rules.check("fd00::5", ["fd00::5"]) == ["fd00::5"]
    with pytest.raises(AddressRefused, match=r"other\.lan resolves to a private address"):
        rules.check("other.lan", ["192.168.1.6"])
    assert AddressRules.create(allow_private=True).check("x", ["127.0.0.1", "10.0.0.1"]) == [
        "127.0.0.1",
        "10.0.0.1",
    ]


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("mcp.intranet.example", True),
        ("nas", True),
        ("192.168.1.5", True),
        ("::1", True),
        ("[fd00::5]", True),
        ("https://mcp.example/", False),
        ("mcp.example:8080", False),
        ("user@mcp.example", False),
        ("", False),
        ("-bad.example", False),
    ],
)
def test_is_host_accepts_names_and_addresses_only(host: str, ok: bool) -> None:
    assert is_host(host) is ok
