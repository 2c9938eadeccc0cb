"""The headers of `satchel/security.py`: the CSP's `connect-src` open for an unmanaged site and exactly the policy's
origins for a managed one, the same in the header and in the page's `<meta>` but for the header-only directives."""

from __future__ import annotations

from satchel.policy import Policy
from satchel.security import (
    SECURITY_HEADERS,
    connect_sources,
    content_security_policy,
    security_headers,
)

ORIGINS = ("https://mcp.riverside.example", "http://192.168.1.20:8080")
MANAGED = Policy(organization="Riverside Clinic", allowed_origins=ORIGINS)


def directives(csp: str) -> dict[str, str]:
    parsed = {}
    for directive in csp.split("; "):
        name, _, value = directive.partition(" ")
        assert name not in parsed, f"{name} twice"
        parsed[name] = value
    return parsed


def test_an_unmanaged_site_may_connect_to_any_http_or_https_origin() -> None:
    # LAN servers are often plain http on a private address: `http://localhost:*` alone would shut them out.
    assert directives(content_security_policy())["connect-src"] == "'self' https: http:"
    assert connect_sources(None) == "'self' https: http:"


def test_a_managed_site_without_origins_is_as_open_as_an_unmanaged_one() -> None:
    policy = Policy(organization="Bank", allowed_servers=("io.satchel/tools",))
    assert content_security_policy(policy=policy) == content_security_policy()


def test_a_managed_site_with_origins_connects_to_exactly_those() -> None:
    connect = directives(content_security_policy(policy=MANAGED))["connect-src"]
    assert connect == "'self' https://mcp.riverside.example http://192.168.1.20:8080"
    closed = Policy(organization="Bank", allowed_origins=())
    assert directives(content_security_policy(policy=closed))["connect-src"] == "'self'"


def test_the_meta_policy_is_the_header_less_its_header_only_directives() -> None:
    for policy in (None, MANAGED):
        header = directives(content_security_policy(policy=policy))
        meta = directives(content_security_policy(policy=policy, for_meta=True))
        assert "frame-ancestors" in header and "frame-ancestors" not in meta
        assert meta == {name: value for name, value in header.items() if name != "frame-ancestors"}


def test_the_security_headers_carry_the_policy_csp() -> None:
    assert security_headers(None) == SECURITY_HEADERS
    headers = security_headers(MANAGED)
    assert headers["Content-Security-Policy"] == content_security_policy(policy=MANAGED)
    assert {name: value for name, value in headers.items() if name != "Content-Security-Policy"} == {
        name: value for name, value in SECURITY_HEADERS.items() if name != "Content-Security-Policy"
    }
