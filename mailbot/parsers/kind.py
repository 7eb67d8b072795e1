"""Kind detection for loop safety (RFC 3834 and what real servers send): auto-reply, bounce, bulk."""
from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from .charsets import surrogates_to_text
from .headers import addresses, decode_header
from .model import MailKind

_DAEMON_LOCAL = re.compile(
    r"^(?:mailer-daemon|mailer_daemon|maildaemon|postmaster|mail-delivery-subsystem|mdaemon|"
    r"mail\.?delivery|bounces?|nobody-bounce|noreply-dmarc|mailerdaemon|mail-daemon|smtp)\b",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|delivery status notification \((?:failure|delay)|delivery (?:status )?notification|"
    r"mail delivery (?:failed|failure|problem|subsystem)|failure notice|failure delivery|returned mail|"
    r"delivery failure|could not be delivered|mail system error|delivery has failed|non remis|non distribuable|"
    r"échec de (?:la )?(?:remise|livraison)|message non délivré|non délivrable|delivery delayed|"
    r"warning: message .* delayed|returning message to sender|mail failure|nondeliverable|"
    r"undeliverable mail|delivery problem|email bounce|bounce notification|delivery status$|"
    r"utilisateur non recensé|mail delivery status|email delivery failure|see transcript",
    re.IGNORECASE,
)
_BOUNCE_BODY = re.compile(
    r"following address(?:es)? failed|permanent error|could not be delivered|couldn't be delivered|"
    r"delivery to the following recipients? (?:failed|has been delayed)|this is the qmail-send program|"
    r"was not delivered to|did not reach (?:some or all of )?the intended recipient|undeliverable|"
    r"user unknown|unknown user|no such user|mailbox (?:is )?(?:full|unavailable)|recipient address rejected|"
    r"message could not be delivered|delivery has failed|unable to deliver|returned to sender|"
    r"n'a pas pu être (?:remis|distribué)|adresse (?:inconnue|introuvable)|delivery attempts will continue|"
    r"has not yet been delivered|i'm sorry to have to inform you|your message was not delivered|"
    r"did not reach the following recipient|failure reasons|error has occurred while attempting to deliver|"
    r"de(?:li|le)very to the following recipients was aborted|delivery failed \d+ attempts|"
    r"not able to deliver your message|recipient name is not recognized|delivery status notification|"
    r"message (?:was )?(?:undeliverable|not delivered)|could not deliver",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^(?:re:\s*)?(?:r[ée]ponse\s+automatique|absence\s+du\s+bureau|absent\b|automatic\s+reply|auto[- ]?reply|"
    r"autoreply|auto[- ]?response|autorespons|out\s+of\s+(?:the\s+)?office|abwesenheitsnotiz|"
    r"automatische\s+antwort|\[?automatyczna\s+odpowied[źz]|respuesta\s+autom[áa]tica|risposta\s+automatica|"
    r"fuori\s+sede|away\s+until|vacation|on\s+vacation|ooo\b|message\s+d'absence|je\s+suis\s+absent|"
    r"read:|lu\s*:|gelesen:|thank\s+you\s+for\s+your\s+(?:e-?mail|message))"
    r"|\((?:automatic|auto)\s+(?:response|reply)\)|\bautomatic\s+reply\b|réponse\s+automatique",
    re.IGNORECASE,
)
_CHALLENGE = re.compile(
    r"not pre-approved|guest list|/verification/|verify (?:that )?you are|please confirm (?:that )?you|"
    r"challenge[- ]response|spam ?arrest|sender verification|awaiting your confirmation",
    re.IGNORECASE,
)
_FILTER_NOTICE = re.compile(r"content[- ]filter|virus alert|banned (?:content|file)|spam (?:notice|quarantine)",
                            re.IGNORECASE)


@dataclass(frozen=True)
class KindResult:
    kind: MailKind
    reason: str
    bounced: tuple[str, ...] = ()


def _header(msg: Message, name: str) -> str:
    return decode_header(msg.get(name, "")).strip()


def _report_type(msg: Message) -> str:
    if msg.get_content_type().lower() != "multipart/report":
        return ""
    try:
        value = msg.get_param("report-type")
    except Exception:  # noqa: BLE001
        return ""
    return str(value or "").strip().lower()


def _dsn_blocks(msg: Message) -> list[Message]:
    blocks: list[Message] = []
    for part in msg.walk():
        ctype = part.get_content_type().lower()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks.extend(p for p in payload if isinstance(p, Message))
    return blocks


_RECIPIENT_FIELD = re.compile(
    r"^(?:final|original)-recipient:\s*(?:rfc822|utf-8|x400|unknown)?\s*;?\s*<?([^\s<>;]+)>?", re.IGNORECASE | re.M)


def _clean_address(value: str) -> str:
    value = surrogates_to_text(value).strip().strip("<>\"'.,;:()[]").strip()
    if value.lower().startswith("rfc822;"):
        value = value[7:].strip().strip("<>")
    return value


def dsn_recipients(msg: Message, raw_text: str) -> tuple[str, ...]:
    """Failed/delayed recipients named by an RFC 3464 report (Final-Recipient, else Original-Recipient)."""
    found: dict[str, None] = {}
    for block in _dsn_blocks(msg):
        final = block.get("Final-Recipient") or block.get("Original-Recipient")
        if not final:
            continue
        original = block.get("Original-Recipient")
        if original and "." not in str(final).rsplit("@", 1)[-1]:
            final = original  # "user@sims-ms-daemon": an internal route, the original address is the useful one
        action = str(block.get("Action", "failed")).strip().lower()
        if action in ("delivered", "relayed", "expanded"):
            continue
        value = str(final)
        value = value.split(";", 1)[1] if ";" in value else value
        address = _clean_address(value)
        if address:
            found.setdefault(address, None)
    if not found:
        # Broken reports whose delivery-status part was not recognised: read the fields from the text.
        finals = [m.group(1) for m in _RECIPIENT_FIELD.finditer(raw_text) if m.group(0).lower().startswith("final")]
        for value in finals or [m.group(1) for m in _RECIPIENT_FIELD.finditer(raw_text)]:
            address = _clean_address(value)
            if address:
                found.setdefault(address, None)
    return tuple(found)


_ADDRESS = re.compile(r"(?<![\w.+\-=!#$%&'*/?^`{|}~])[\w.+\-=!#$%&'*/?^`{|}~]+@[A-Za-z0-9][\w\-]*(?:\.[\w\-]+)+")
_FAILED_LIST = re.compile(
    r"(?:following (?:address(?:es)?|recipients?)(?: had permanent fatal errors| failed)?[^\n]*:|"
    r"could not be delivered to[^\n]*:|delivery to the following recipients? (?:failed|has been delayed)[^\n]*|"
    r"i'm afraid i wasn't able to deliver your message to the following addresses\.|"
    r"there was an error sending your mail to[^\n]*|unable to deliver[^\n]*to[^\n]*|"
    r"message could not be delivered to[^\n]*|your message did not reach[^\n]*|"
    r"delivery to the following recipient[^\n]*|the following message to <|delivery failed \d+ attempts:|"
    r"target mail address:|the following recipients? (?:did not receive|could not be reached|failed)[^\n]*|"
    r"did not reach the following recipient[^\n]*|following addresses had (?:permanent )?(?:delivery )?(?:problems|errors)[^\n]*|"
    r"your message (?:to|for) [^\n]*|n'a pas pu être (?:remis|distribué) [^\n]*)",
    re.IGNORECASE,
)


def _strip_route(addr: str) -> str:
    # X.400-style "dda:SMTP=USER@HOST" (old Exchange) keeps only the SMTP address.
    return addr.rsplit("=", 1)[-1] if re.match(r"(?i)^(?:smtp|rfc-822)=", addr) else addr


def text_recipients(body: str, exclude: set[str]) -> tuple[str, ...]:
    """Recipients of a non-standard bounce: addresses right after a failure phrase, else the first
    address on a line with a failure keyword. The bounce's own From/To are never candidates."""
    human = re.split(r"\n-{2,}[^\n]*(?:original message|returned message|headers)|\n(?:received|return-path): ",
                     body, maxsplit=1, flags=re.IGNORECASE)[0]

    def usable(addr: str) -> bool:
        low = addr.lower()
        return low not in exclude and not _DAEMON_LOCAL.match(low.split("@")[0])

    found: dict[str, None] = {}
    for match in _FAILED_LIST.finditer(human):
        # The first address after each failure phrase (Netscape repeats the phrase once per recipient).
        window = human[match.start(): match.end() + 300]
        addrs = [_strip_route(a) for a in _ADDRESS.findall(window)]
        addrs = [a for a in addrs if usable(a)]
        if addrs:
            found.setdefault(addrs[0], None)
    if found:
        return tuple(found)
    for line in human.split("\n"):
        if _BOUNCE_BODY.search(line) or re.search(r"\b(?:5\d\d|4\d\d)[ -]\d?\.?\d|recipient|destinataire", line, re.I):
            addrs = [a for a in _ADDRESS.findall(line) if usable(a)]
            if addrs:
                return (addrs[0],)
    for line in human.split("\n"):
        stripped = line.strip()
        if re.fullmatch(r"<?[^\s<>]+@[^\s<>]+>?:?", stripped):
            addr = stripped.strip("<>:")
            if usable(addr):
                return (addr,)
    return ()


def _failed_header(msg: Message) -> tuple[str, ...]:
    """Exim's X-Failed-Recipients header names the failed addresses exactly."""
    values = msg.get_all("X-Failed-Recipients") or []
    return tuple(dict.fromkeys(a for _, a in addresses(values)))


def detect(msg: Message, body: str, raw_text: str) -> KindResult:
    """Decide the kind; the order matters: a bounce is never an auto-reply, an auto-reply beats bulk."""
    subject = _header(msg, "Subject")
    report = _report_type(msg)
    mime_type = msg.get_content_type().lower()
    sender = addresses([msg.get("From")]) if msg.get("From") else []
    sender_addr = sender[0][1] if sender else ""
    sender_local = sender_addr.split("@", 1)[0]
    from_name = sender[0][0] if sender else ""
    return_path = str(msg.get("Return-Path", "")).strip()
    auto_submitted = _header(msg, "Auto-Submitted").lower()
    exclude = {sender_addr}

    if report == "disposition-notification":
        return KindResult(MailKind.AUTO_REPLY, "multipart/report disposition-notification (read receipt)")
    if report == "feedback-report":
        return KindResult(MailKind.BULK, "ARF feedback report")
    if report in ("delivery-status", "global-delivery-status"):
        dsn_text = "\n".join(str(b) for b in _dsn_blocks(msg))
        if _CHALLENGE.search(dsn_text) or _CHALLENGE.search(body[:3000]):
            return KindResult(MailKind.AUTO_REPLY, "challenge-response dressed as a delivery report")
        recipients = dsn_recipients(msg, raw_text) or _failed_header(msg) or text_recipients(body, exclude)
        return KindResult(MailKind.BOUNCE, "multipart/report delivery-status", recipients)

    daemon = bool(_DAEMON_LOCAL.match(sender_local)) or bool(re.search(r"mail delivery|mailer-daemon|postmaster",
                                                                        from_name, re.IGNORECASE))
    null_sender = return_path in ("<>", "")  and "Return-Path" in msg
    subject_bounce = bool(_BOUNCE_SUBJECT.search(subject))
    # The failure-wording search is costly (one big alternation); it only matters for a robot-looking sender
    # or subject, so ordinary mail never pays for it.
    body_bounce = (daemon or subject_bounce or null_sender) and bool(_BOUNCE_BODY.search(body[:5000]))
    has_dsn_part = bool(_dsn_blocks(msg)) or mime_type == "message/delivery-status"
    if has_dsn_part or re.search(r"(?im)^(?:final|original)-recipient:", raw_text) and (daemon or subject_bounce):
        recipients = _failed_header(msg) or dsn_recipients(msg, raw_text) or text_recipients(body, exclude)
        return KindResult(MailKind.BOUNCE, "delivery-status fields in a non-standard report", recipients)
    # A non-standard bounce needs failure wording in the body: a subject or a postmaster sender alone
    # is also what people use when they write about a delivery problem.
    if body_bounce and (daemon or subject_bounce or null_sender) or (daemon and subject_bounce and
                                                                      msg.get("X-Failed-Recipients")):
        if not (_FILTER_NOTICE.search(subject + " " + from_name) or _FILTER_NOTICE.search(body[:2000])):
            reason = "sender " + sender_local if daemon else "bounce subject " + subject[:40]
            return KindResult(MailKind.BOUNCE, reason, _failed_header(msg) or text_recipients(body, exclude))

    if auto_submitted and auto_submitted != "no":
        return KindResult(MailKind.AUTO_REPLY, f"Auto-Submitted: {auto_submitted}")
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply", "X-Vacation"):
        if msg.get(name) is not None:
            return KindResult(MailKind.AUTO_REPLY, f"{name} header")
    precedence = _header(msg, "Precedence").lower()
    if precedence in ("auto_reply", "auto-reply"):
        return KindResult(MailKind.AUTO_REPLY, f"Precedence: {precedence}")
    if _AUTO_SUBJECT.search(subject):
        reason = "auto-reply subject"
        if msg.get("X-Auto-Response-Suppress") is not None:
            reason += " with X-Auto-Response-Suppress"
        return KindResult(MailKind.AUTO_REPLY, reason)
    if msg.get("X-Bluebottle-Request") is not None or (_CHALLENGE.search(body[:3000]) and null_sender):
        return KindResult(MailKind.AUTO_REPLY, "challenge-response")
    if msg.get_content_type().lower() == "application/ms-tnef" and re.match(r"^(?:read|lu|gelesen)\s*:", subject, re.I):
        return KindResult(MailKind.AUTO_REPLY, "Outlook read receipt")
    if _FILTER_NOTICE.search(from_name + " " + body[:500]) and (daemon or null_sender):
        return KindResult(MailKind.AUTO_REPLY, "content-filter notice")

    if precedence in ("bulk", "list", "junk"):
        return KindResult(MailKind.BULK, f"Precedence: {precedence}")
    for name in ("List-Id", "List-Unsubscribe", "List-Post", "X-Mailing-List", "List-Help"):
        if msg.get(name) is not None:
            return KindResult(MailKind.BULK, f"{name} header")
    if daemon and null_sender:
        return KindResult(MailKind.AUTO_REPLY, "automatic message from " + sender_local)
    return KindResult(MailKind.NORMAL, "")
