"""Authentication-Results (RFC 8601), now a pure function of parsers/ (issue 14, point 6): only the operator's MTA's
own topmost header counts, comments never, and a pass must be aligned with the From: domain."""
from __future__ import annotations

import pytest

from mailbot.parsers.authresults import authenticated_sender, parse_authentication_results

ID = "mx.club.test"


def raw(*values: str) -> bytes:
    head = "".join(f"Authentication-Results: {v}\r\n" for v in values)
    return (head + "From: aideur@club.test\r\nSubject: x\r\n\r\nAuthentication-Results: mx.club.test; dmarc=pass\r\n"
            ).encode()


@pytest.mark.parametrize("values, passed", [
    ((f"{ID}; dmarc=pass header.from=club.test",), True),
    ((f"{ID}; dkim=pass header.d=club.test; dmarc=fail",), True),
    ((f"{ID}; dkim=pass header.d=mail.club.test",), True),  # relaxed alignment
    ((f"{ID}; spf=pass smtp.mailfrom=bounce@club.test",), True),
    ((f"{ID}; dkim=pass header.d=evil.test",), False),  # a pass for another domain
    ((f"{ID}; dmarc=fail (dmarc=pass) header.from=club.test",), False),  # a comment is no result
    ((f"{ID}; dmarc=fail header.from=club.test", f"{ID}; dmarc=pass header.from=club.test"), False),  # topmost
    (("other.example; dmarc=pass header.from=club.test",), False),  # another server's word
    ((), False),  # none at all (the one in the body does not count)
    ((f'{ID}; dmarc=pass header.from="club.test',), False),  # unreadable: an open quote
    ((f"{ID}; dmarc=pass",), False),  # a pass for no named domain proves nothing about this From:
    ((f"{ID}; dmarc=pass header.from=evil.test",), False),
])
def test_authenticated_sender(values: tuple[str, ...], passed: bool) -> None:
    verdict = authenticated_sender(raw(*values), "aideur@club.test", ID)
    assert verdict.passed is passed, verdict.reason
    assert verdict.reason


def test_parse_keeps_properties_and_drops_reason() -> None:
    authserv, results = parse_authentication_results(f'{ID} 1; dkim=pass reason="good sig" header.d=club.test') or ("", [])
    assert authserv == ID
    assert [(r.method, r.result, r.properties) for r in results] == [("dkim", "pass", {"header.d": "club.test"})]
