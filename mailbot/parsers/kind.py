"""Kind detection for loop safety (RFC 3834 and what real servers send): auto-reply, bounce, bulk."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

from .charsets import surrogates_to_text
from .headers import addresses, decode_header
from .model import MailKind
from .rules import drop_combining

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
# Subjects that are an auto-reply's own words. They count only at the very start of the subject (after reply
# prefixes "Re:", "AW:", "SV:"… and a bracket), followed by a separator or nothing: an autoresponder writes
# "Réponse automatique : <your subject>", while a member writes "Comment configurer une réponse automatique ?",
# "Absent depuis 3 semaines, mon apprenti…" or "Message d'absence" (about one). Words that people also use for
# their own subjects ("absent", "vacances", "message d'absence") are not on the list: only headers decide those.
AUTO_REPLY_PHRASES = (
    # French
    "réponse automatique", "absence du bureau", "absent du bureau", "absente du bureau", "hors du bureau",
    "réponse d'absence", "notification d'absence",
    # English
    "automatic reply", "automatic response", "automated reply", "automated response", "auto reply", "auto-reply",
    "autoreply", "auto response", "auto-response", "autoresponse", "autorespons", "autoresponder",
    "out of office", "out of the office", "out-of-office", "ooo", "vacation reply", "vacation auto-reply",
    "thank you for your email", "thank you for your e-mail", "thank you for your message",
    # German
    "abwesenheitsnotiz", "abwesenheitsmeldung", "automatische antwort", "automatische rückantwort",
    # Spanish, Italian, Portuguese
    "respuesta automática", "fuera de la oficina", "risposta automatica", "fuori sede", "fuori ufficio",
    "resposta automática", "fora do escritório",
    # Dutch, Scandinavian, Finnish
    "automatisch antwoord", "afwezigheidsbericht", "autosvar", "automatisk svar", "automatiskt svar",
    "automaattinen vastaus",
    # Central and Eastern Europe, Turkish
    "automatyczna odpowiedź", "poza biurem", "automatická odpověď", "automatikus válasz", "răspuns automat",
    "otomatik yanıt", "otomatik cevap",
)
# Read receipts sent as plain mail ("Lu : <subject>"): only with their colon.
READ_RECEIPT_PHRASES = ("lu", "read", "gelesen", "leído", "letto", "gelezen", "läst", "non lu", "not read",
                        "ungelesen", "no leído", "non letto", "niet gelezen")
# Thunderbird's and Apple Mail's receipts: "Accusé de réception (affiché) - <subject>", "Return Receipt
# (displayed) - …": the state in brackets is what no person writes.
_RECEIPT_SUBJECT = re.compile(
    r"^(?:accuse de reception|accuse de lecture|confirmation de lecture|return receipt|read receipt|"
    r"lesebestatigung|empfangsbestatigung|ricevuta di ritorno|acuse de recibo|leesbevestiging)\s*"
    r"\((?:affiche|displayed|deleted|supprime|angezeigt|geloscht|visualizzat[oa]|mostrado|weergegeven|dispatched|processed|traite|envoye)\)")
# What may follow the phrase: nothing, a separator, or a qualifier word and then a separator
# ("Out of Office AutoReply: …").
_AFTER_PHRASE = r"(?:\s+(?:auto-?reply|reply|notification|message))?\s*(?:$|[:：\-–—|(\]])"


def _fold(text: str) -> str:
    """Lower case without accents, NFKC (compatibility forms), one space between words."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    return " ".join(drop_combining(decomposed).lower().split())


def _alternatives(phrases: tuple[str, ...]) -> str:
    return "|".join(sorted((re.escape(_fold(p)) for p in phrases), key=len, reverse=True))


_AUTO_SUBJECT = re.compile(r"^\[?(?:" + _alternatives(AUTO_REPLY_PHRASES) + r")" + _AFTER_PHRASE
                           + r"|^(?:" + _alternatives(READ_RECEIPT_PHRASES) + r")\s*[:：]")
_REPLY_PREFIX = re.compile(r"^(?:(?:re|ré|aw|antw|antwort|sv|vs|odp|res|r|rif|ref|réf)\s*(?:\[\d+\]|\(\d+\))?"
                           r"\s*[:：]\s*)+", re.IGNORECASE)
# Some autoresponders (AOL's) keep the subject and add a marker at its end instead.
_AUTO_SUBJECT_END = re.compile(r"\((?:automatic|auto)\s+(?:response|reply)\)\s*$", re.IGNORECASE)


def auto_reply_subject(subject: str) -> bool:
    """Whether the subject starts like an auto-reply's (after reply prefixes only: a forward "TR: Réponse
    automatique : …" is a person passing one on, and gets an answer)."""
    folded = _fold(subject)
    folded = _REPLY_PREFIX.sub("", folded)
    return bool(_AUTO_SUBJECT.match(folded) or _AUTO_SUBJECT_END.search(folded) or _RECEIPT_SUBJECT.match(folded))


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


def _own_parts(msg: Message) -> Iterator[Message]:
    """The mail's own parts: a mail attached to it (message/rfc822, e.g. a bounce a member forwards to ask about
    it) is not opened, so its delivery report is not taken for one addressed to us."""
    yield msg
    payload = msg.get_payload()
    if not msg.is_multipart() or not isinstance(payload, list) or msg.get_content_maintype() == "message":
        return
    for part in payload:
        if isinstance(part, Message):
            yield from _own_parts(part)


def _dsn_blocks(msg: Message) -> list[Message]:
    blocks: list[Message] = []
    for part in _own_parts(msg):
        ctype = part.get_content_type().lower()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks.extend(p for p in payload if isinstance(p, Message))
    return blocks


_RECIPIENT_FIELD = re.compile(
    r"^(?:final|original)-recipient:\s*(?:rfc822|utf-8|x400|unknown)?\s*;?\s*<?([^\s<>;]+)>?", re.IGNORECASE | re.MULTILINE)
_ACTION_FIELD = re.compile(r"^action:\s*([a-z]+)", re.IGNORECASE | re.MULTILINE)
# RFC 3464 2.3.3: only "failed" says the mail will not arrive. "delayed" means the server is still trying;
# "delivered", "relayed" and "expanded" are successes (a report the sender asked for, or a relay's notice).
NOT_FAILURES = ("delivered", "relayed", "expanded", "delayed")
# The reason of a delivery report that reports no failure: the bounce workflow records it and marks nobody.
NO_FAILURE = "rapport de distribution sans échec"


def _clean_address(value: str) -> str:
    value = surrogates_to_text(value).strip().strip("<>\"'.,;:()[]").strip()
    if value.lower().startswith("rfc822;"):
        value = value[7:].strip().strip("<>")
    return value


def dsn_actions(msg: Message, raw_text: str) -> tuple[str, ...]:
    """The Action of every recipient block of an RFC 3464 report (lower case), from its text when the
    delivery-status part was not recognised; () when the report states none."""
    actions = [str(b.get("Action", "")).strip().lower() for b in _dsn_blocks(msg)
               if b.get("Final-Recipient") or b.get("Original-Recipient")]
    actions = [a for a in actions if a]
    return tuple(actions) if actions else tuple(m.group(1).lower() for m in _ACTION_FIELD.finditer(raw_text))


def reports_no_failure(msg: Message, raw_text: str) -> str:
    """"relayed", "delayed, delivered"…: the actions of a report whose every recipient block says it was not a
    failure; "" when any says failed (or none says anything: a report is a failure unless it says otherwise)."""
    actions = dsn_actions(msg, raw_text)
    if actions and all(action in NOT_FAILURES for action in actions):
        return ", ".join(dict.fromkeys(actions))
    return ""


def dsn_recipients(msg: Message, raw_text: str, *, failed_only: bool = True) -> tuple[str, ...]:
    """Failed recipients named by an RFC 3464 report (Final-Recipient, else Original-Recipient); the recipients
    of blocks whose Action is not a failure (delayed, delivered, relayed, expanded) are left out unless
    `failed_only` is False (a report with no failure names whom it is about)."""
    found: dict[str, None] = {}
    blocks = [b for b in _dsn_blocks(msg) if b.get("Final-Recipient") or b.get("Original-Recipient")]
    for block in blocks:
        final = block.get("Final-Recipient") or block.get("Original-Recipient")
        original = block.get("Original-Recipient")
        if original and "." not in str(final).rsplit("@", 1)[-1]:
            final = original  # "user@sims-ms-daemon": an internal route, the original address is the useful one
        action = str(block.get("Action", "failed")).strip().lower()
        if failed_only and action in NOT_FAILURES:
            continue
        value = str(final)
        value = value.split(";", 1)[1] if ";" in value else value
        address = _clean_address(value)
        if address:
            found.setdefault(address, None)
    if not found and not blocks and not (failed_only and reports_no_failure(msg, raw_text)):
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
        if _BOUNCE_BODY.search(line) or re.search(r"\b(?:5\d\d|4\d\d)[ -]\d?\.?\d|recipient|destinataire", line, re.IGNORECASE):
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


@dataclass(frozen=True)
class _Facts:
    """What the detectors read, worked out once per mail."""

    msg: Message
    body: str
    raw_text: str
    subject: str
    report: str  # the report-type of a top-level multipart/report, lower case
    sender_addr: str
    sender_local: str
    from_name: str
    daemon: bool  # From: a mail system (MAILER-DAEMON, postmaster…), by address or display name
    null_sender: bool  # Return-Path: <> or a mail system's: what a server's own report comes with

    @classmethod
    def of(cls, msg: Message, body: str, raw_text: str) -> _Facts:
        # Leniently, as written: a robot's From ("<MAILER-DAEMON>", "postmaster@host") need not be an address
        # anyone could answer (parsers/headers.py decides that) to say who sent it.
        sender = addresses([msg.get("From")]) if msg.get("From") else []
        if not sender and msg.get("From"):
            try:
                sender = [(n, a.lower()) for n, a in getaddresses([surrogates_to_text(msg.get("From"))]) if a]
            except Exception:  # noqa: BLE001 - an unreadable From is no sender
                sender = []
        sender_addr = sender[0][1] if sender else ""
        from_name = sender[0][0] if sender else ""
        return_path = str(msg.get("Return-Path", "")).strip()
        return_local = return_path.strip("<> ").split("@", 1)[0]
        return cls(
            msg=msg, body=body, raw_text=raw_text, subject=_header(msg, "Subject"), report=_report_type(msg),
            sender_addr=sender_addr, sender_local=sender_addr.split("@", 1)[0], from_name=from_name,
            daemon=bool(_DAEMON_LOCAL.match(sender_addr.split("@", 1)[0])) or bool(
                re.search(r"mail delivery|mailer-daemon|postmaster", from_name, re.IGNORECASE)),
            null_sender="Return-Path" in msg and (return_path in ("<>", "") or bool(
                re.fullmatch(r"(?i)mailer-daemon|postmaster", return_local))),
        )


Detector = Callable[[_Facts], "KindResult | None"]


def _report(facts: _Facts) -> KindResult | None:
    """A top-level multipart/report (RFC 6522): read receipt, abuse feedback or delivery report."""
    if facts.report == "disposition-notification":
        return KindResult(MailKind.AUTO_REPLY, "multipart/report disposition-notification (read receipt)")
    if facts.report == "feedback-report":
        return KindResult(MailKind.BULK, "ARF feedback report")
    if facts.report not in ("delivery-status", "global-delivery-status"):
        return None
    dsn_text = "\n".join(str(b) for b in _dsn_blocks(facts.msg))
    if _CHALLENGE.search(dsn_text) or _CHALLENGE.search(facts.body[:3000]):
        return KindResult(MailKind.AUTO_REPLY, "challenge-response dressed as a delivery report")
    return _delivery_report(facts, "multipart/report delivery-status")


def _delivery_report(facts: _Facts, reason: str) -> KindResult:
    fine = _no_failure(facts)
    if fine is not None:
        return fine
    recipients = (dsn_recipients(facts.msg, facts.raw_text) or _failed_header(facts.msg)
                  or text_recipients(facts.body, {facts.sender_addr}))
    return KindResult(MailKind.BOUNCE, reason, recipients)


def _no_failure(facts: _Facts) -> KindResult | None:
    """A report whose every recipient was delivered, relayed, expanded or is still being tried: still a report
    (never answered), naming whom it is about, but its reason says it is no failure (see is_failure)."""
    fine = reports_no_failure(facts.msg, facts.raw_text)
    if not fine:
        return None
    return KindResult(MailKind.BOUNCE, f"{NO_FAILURE} (Action: {fine})",
                      dsn_recipients(facts.msg, facts.raw_text, failed_only=False))


def is_failure(kind: MailKind, reason: str) -> bool:
    """Whether a mail of this kind and reason reports a delivery failure (a delay or a success does not)."""
    return kind is MailKind.BOUNCE and not reason.startswith(NO_FAILURE)


def _report_fields(facts: _Facts) -> KindResult | None:
    """A delivery-status part in another structure, or its fields in the text of a mail system's own mail."""
    has_part = bool(_dsn_blocks(facts.msg)) or facts.msg.get_content_type().lower() == "message/delivery-status"
    # The raw text is scanned only for a mail system's own mail, the only case where its fields count.
    if not (has_part or (facts.daemon or facts.null_sender)
            and re.search(r"(?im)^(?:final|original)-recipient:", facts.raw_text)):
        return None
    fine = _no_failure(facts)
    if fine is not None:
        return fine
    recipients = (_failed_header(facts.msg) or dsn_recipients(facts.msg, facts.raw_text)
                  or text_recipients(facts.body, {facts.sender_addr}))
    return KindResult(MailKind.BOUNCE, "delivery-status fields in a non-standard report", recipients)


def _failure_notice(facts: _Facts) -> KindResult | None:
    """A non-standard bounce: a mail system's own mail (null or MAILER-DAEMON return path, or a MAILER-DAEMON
    sender) with failure wording in its body. A subject or failure words alone are what people write when
    they ask about a delivery problem: that is a request, not a bounce."""
    if not (facts.daemon or facts.null_sender):
        return None
    wording = bool(_BOUNCE_BODY.search(facts.body[:5000]))
    exim = facts.daemon and bool(_BOUNCE_SUBJECT.search(facts.subject)) and facts.msg.get("X-Failed-Recipients")
    if not (wording or exim):
        return None
    if _FILTER_NOTICE.search(facts.subject + " " + facts.from_name) or _FILTER_NOTICE.search(facts.body[:2000]):
        return None
    reason = "sender " + facts.sender_local if facts.daemon else "null return path with failure wording"
    return KindResult(MailKind.BOUNCE, reason, _failed_header(facts.msg) or text_recipients(
        facts.body, {facts.sender_addr}))


_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply", "X-Vacation")


def _auto_headers(facts: _Facts) -> KindResult | None:
    """RFC 3834 Auto-Submitted, the autoresponders' own headers, Precedence: auto_reply, Exchange's rule loop."""
    msg = facts.msg
    auto_submitted = _header(msg, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return KindResult(MailKind.AUTO_REPLY, f"Auto-Submitted: {auto_submitted[:40]}")
    for name in _AUTO_HEADERS:
        if msg.get(name) is not None and _header(msg, name).lower() not in ("no", "false", "0"):
            return KindResult(MailKind.AUTO_REPLY, f"{name} header")
    precedence = _header(msg, "Precedence").lower()
    if precedence in ("auto_reply", "auto-reply"):
        return KindResult(MailKind.AUTO_REPLY, f"Precedence: {precedence}")
    if msg.get("X-MS-Exchange-Inbox-Rules-Loop") is not None:
        return KindResult(MailKind.AUTO_REPLY, "X-MS-Exchange-Inbox-Rules-Loop header (Exchange rule)")
    source = _header(msg, "X-MS-Exchange-Generated-Message-Source").lower()
    if "mailbox rules agent" in source or "oof" in source.split():
        return KindResult(MailKind.AUTO_REPLY, "X-MS-Exchange-Generated-Message-Source: " + source[:40])
    return None


def _auto_subject(facts: _Facts) -> KindResult | None:
    if not auto_reply_subject(facts.subject):
        return None
    reason = "auto-reply subject"
    if facts.msg.get("X-Auto-Response-Suppress") is not None:
        reason += " with X-Auto-Response-Suppress"
    return KindResult(MailKind.AUTO_REPLY, reason)


def _other_robots(facts: _Facts) -> KindResult | None:
    """Challenge-response systems, Outlook's TNEF read receipts, content-filter notices."""
    msg = facts.msg
    # The cheap facts first: the text scans only matter for a mail system's own mail (same result, fewer scans).
    if msg.get("X-Bluebottle-Request") is not None or (facts.null_sender and _CHALLENGE.search(facts.body[:3000])):
        return KindResult(MailKind.AUTO_REPLY, "challenge-response")
    if msg.get_content_type().lower() == "application/ms-tnef" and re.match(
            r"^(?:read|lu|gelesen)\s*:", facts.subject, re.IGNORECASE):
        return KindResult(MailKind.AUTO_REPLY, "Outlook read receipt")
    if (facts.daemon or facts.null_sender) and _FILTER_NOTICE.search(facts.from_name + " " + facts.body[:500]):
        return KindResult(MailKind.AUTO_REPLY, "content-filter notice")
    return None


_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Subscribe", "List-Owner",
                 "List-Archive", "X-Mailing-List")


def _bulk(facts: _Facts) -> KindResult | None:
    precedence = _header(facts.msg, "Precedence").lower()
    if precedence in ("bulk", "list", "junk"):
        return KindResult(MailKind.BULK, f"Precedence: {precedence}")
    for name in _LIST_HEADERS:
        if facts.msg.get(name) is not None:
            return KindResult(MailKind.BULK, f"{name} header")
    return None


# Headers of mass-mailing services (Mailchimp, Brevo/Sendinblue, Mailjet, Mailgun campaigns, SendGrid…): a
# campaign sent without any List-* header is still a newsletter. Header names, and X-Mailer values.
_CAMPAIGN_HEADERS = ("X-Campaign", "X-Campaignid", "X-Campaign-Id", "X-MC-User", "X-Mailjet-Campaign",
                     "X-Mailin-Campaign", "X-Sib-Id", "X-Mailgun-Tag", "X-SG-EID", "X-CSA-Complaints",
                     "X-Newsletter", "X-Mailchimp-Id", "X-Sendinblue-Id", "X-Brevo-Id", "X-Rpcampaign",
                     "X-Feedback-Id-Campaign")
_MASS_MAILERS = re.compile(r"mailchimp|mandrill|sendinblue|brevo|mailjet|sendgrid|mailgun|sarbacane|mailup|"
                           r"campaign monitor|createsend|constant ?contact|hubspot|mailerlite|substack|"
                           r"newsletter|e-?mailing|cakemail|dolist|message business|splio|actito|emarsys|"
                           r"selligent|klaviyo|acymailing|mailpoet|sympa|phplist", re.IGNORECASE)
# A newsletter's own words: the unsubscribe link, and its "view online" line or its tracking pixel. A member asks
# "comment me désabonner ?": one signal is not enough, and a forward ("TR: …") is a person passing one on.
_UNSUBSCRIBE = re.compile(r"se\s+d[ée]sabonner|d[ée]sabonnez[- ]vous|d[ée]sinscri(?:re|ption|vez)|"
                          r"d[ée]sabonnement|unsubscribe|opt[- ]out|ne plus recevoir (?:nos|cette|ces|la)|"
                          r"g[ée]rer (?:vos|mes) (?:abonnements|pr[ée]f[ée]rences)", re.IGNORECASE)
_VIEW_ONLINE = re.compile(r"version en ligne|voir (?:ce|cet|l')\s*(?:e-?mail|mail|message|newsletter) (?:en ligne|"
                          r"dans (?:votre|le) navigateur)|afficher (?:dans|sur) (?:votre|le) navigateur|"
                          r"view (?:this email |it )?(?:online|in (?:your )?browser)|"
                          r"si ce (?:message|mail|e-?mail) ne s'affiche pas", re.IGNORECASE)
_PIXEL_SIZE = r"\s*=(?:3D)?\s*[\"']?(?:0|1)(?!\d)(?:px)?[\"']?"  # width="1", or width=3D"1" in quoted-printable
_PIXEL = re.compile(r"<img\b[^>]*\b(?:width" + _PIXEL_SIZE + r"\b[^>]*\bheight" + _PIXEL_SIZE + r"|height"
                    + _PIXEL_SIZE + r"\b[^>]*\bwidth" + _PIXEL_SIZE + r")", re.IGNORECASE)


# Each way of saying "unsubscribe" above holds one of these (case folded): a text without any needs no regex scan.
# The scan is case-insensitive over up to 200 KB of every mail; the substring tests run at memchr's speed.
_UNSUBSCRIBE_KEYS = ("abonne", "sinscri", "unsubscribe", "opt-out", "opt out", "ne plus recevoir ", "rer vos ",
                     "rer mes ")


def _may_unsubscribe(text: str) -> bool:
    folded = text.casefold()
    return any(key in folded for key in _UNSUBSCRIBE_KEYS) and _UNSUBSCRIBE.search(text) is not None


def _newsletter(facts: _Facts) -> KindResult | None:
    """A newsletter or campaign sent without list headers (issue 13, point 7): a mass-mailing service's headers,
    or an unsubscribe link together with a "version en ligne" line or a tracking pixel."""
    msg = facts.msg
    for name in _CAMPAIGN_HEADERS:
        if msg.get(name) is not None:
            return KindResult(MailKind.BULK, f"newsletter (en-tête {name})")
    mailer = _header(msg, "X-Mailer") + " " + _header(msg, "X-Mailer-Name")
    if _MASS_MAILERS.search(mailer):
        return KindResult(MailKind.BULK, "newsletter (X-Mailer: " + mailer.strip()[:40] + ")")
    if _PERSON_PREFIX.match(_fold(facts.subject)):
        return None  # "TR: La lettre de mars": a member forwarding one, to ask about it
    head = facts.body[:20000]
    if not _may_unsubscribe(head) and not _may_unsubscribe(facts.raw_text[:200000]):
        return None
    if _VIEW_ONLINE.search(head) or _VIEW_ONLINE.search(facts.raw_text[:200000]):
        return KindResult(MailKind.BULK, "newsletter (lien de désabonnement et « version en ligne »)")
    if _PIXEL.search(facts.raw_text[:500000]):
        return KindResult(MailKind.BULK, "newsletter (lien de désabonnement et pixel de suivi)")
    return None


def _mail_system(facts: _Facts) -> KindResult | None:
    if facts.daemon and facts.null_sender:
        return KindResult(MailKind.AUTO_REPLY, "automatic message from " + facts.sender_local[:40])
    return None


_DMARC_FILE = re.compile(r"^[^!/\\\s]+![^!/\\\s]+!\d{9,}!\d{9,}(?:![^/\\]*)?\.(?:xml|zip|gz|xml\.gz)$", re.IGNORECASE)
_REPORT_SUBJECT = re.compile(r"^\s*\[?\s*report[ _-]?domain\s*:\s*\S+.*\bsubmitter\s*:", re.IGNORECASE)
_TLSRPT_TYPES = ("application/tlsrpt+gzip", "application/tlsrpt+json")
_COMPLAINT_SUBJECT = re.compile(r"^\s*(?:complaint about message from|email feedback report for ip|"
                                r"abuse report|spam complaint|fbl report)\b", re.IGNORECASE)
_COMPLAINT_SENDERS = re.compile(r"^(?:staff@hotmail\.com|scomp@aol\.net|feedbackloop@|fbl@|abuse-report@|"
                                r"complaints?@|jmrp@)", re.IGNORECASE)


_PERSON_PREFIX = re.compile(r"^(?:re|aw|antw|sv|vs|odp|res|r|rif|tr|fw|fwd|wg|rv|enc|i|doorst)\s*(?:\[\d+\])?\s*[:：]")


def _attachment_names(msg: Message) -> list[str]:
    names = []
    for part in _own_parts(msg):
        try:
            name = part.get_filename() or part.get_param("name") or ""
        except Exception:  # noqa: BLE001 - a broken parameter is no name
            name = ""
        if isinstance(name, tuple):
            name = name[2]
        if name:
            names.append(str(name).strip())
    return names


def _machine_reports(facts: _Facts) -> KindResult | None:
    """Reports that mail systems send on their own, never to be answered: SMTP TLS reports (RFC 8460), DMARC
    aggregate reports (RFC 7489 7.2), abuse complaints in ARF (RFC 5965) or in the providers' own formats
    (Hotmail/Outlook.com JMRP, AOL). A member forwarding one ("TR: Report domain…", with a text of their own)
    writes with a reply or forward prefix, and is read as a person."""
    msg = facts.msg
    if facts.report == "tlsrpt":
        return KindResult(MailKind.BULK, "rapport TLS (RFC 8460, report-type=tlsrpt)")
    if _PERSON_PREFIX.match(_fold(facts.subject)):
        return None  # "TR: Report domain: …", "Re: complaint about…": a person passing one on, or answering
    types = {part.get_content_type().lower() for part in _own_parts(msg)}
    if types & set(_TLSRPT_TYPES) or msg.get("TLS-Report-Domain") is not None:
        return KindResult(MailKind.BULK, "rapport TLS (RFC 8460, report-type=tlsrpt)")
    names = _attachment_names(msg)
    dmarc_file = any(_DMARC_FILE.match(name) for name in names)
    if _REPORT_SUBJECT.match(facts.subject) and (dmarc_file or names or "dmarc" in facts.sender_addr):
        return KindResult(MailKind.BULK, "rapport DMARC agrégé")
    if dmarc_file and not _REPLY_PREFIX.match(_fold(facts.subject)) and len(facts.body.strip()) < 400:
        return KindResult(MailKind.BULK, "rapport DMARC agrégé (pièce jointe " + names[0][:60] + ")")
    if "message/feedback-report" in types:
        return KindResult(MailKind.BULK, "rapport de plainte ARF (message/feedback-report)")
    # Hotmail's header is in the complained-of mail it attaches, never on the report's own head.
    hotmail = ("message/rfc822" in types and msg.get("X-HmXmrOriginalRecipient") is None
               and re.search(r"(?im)^X-HmXmrOriginalRecipient:", facts.raw_text))
    if hotmail or _COMPLAINT_SENDERS.match(facts.sender_addr) and (
            _COMPLAINT_SUBJECT.match(facts.subject) or "message/rfc822" in types):
        return KindResult(MailKind.BULK, "rapport de plainte non standard ("
                          + ("Hotmail JMRP" if hotmail else facts.sender_addr[:40]) + ")")
    if _COMPLAINT_SUBJECT.match(facts.subject) and "message/rfc822" in types and (facts.null_sender or facts.daemon):
        return KindResult(MailKind.BULK, "rapport de plainte non standard")
    return None


def _calendar_reply(part: Message) -> bool:
    if part.get_content_type().lower() != "text/calendar":
        return False
    try:
        method = str(part.get_param("method") or "")
    except Exception:  # noqa: BLE001
        method = ""
    if method.strip().lower() == "reply":
        return True
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if not isinstance(data, bytes):
        data = b""
    return bool(re.search(rb"(?im)^METHOD:\s*REPLY\s*$", data[:20000]))


def _receipts(facts: _Facts) -> KindResult | None:
    """Read receipts (RFC 8098 MDN) outside a proper multipart/report, and calendar answers (iTIP METHOD:REPLY:
    "Accepté : Réunion", sent by the client when someone clicks a button)."""
    parts = list(_own_parts(facts.msg))
    if any(p.get_content_type().lower() == "message/disposition-notification" for p in parts):
        return KindResult(MailKind.AUTO_REPLY, "accusé de lecture (message/disposition-notification)")
    if any(_calendar_reply(p) for p in parts):
        return KindResult(MailKind.AUTO_REPLY, "réponse d'agenda (text/calendar METHOD:REPLY)")
    return None


# An out-of-office body, in the usual languages: its very first words (after a greeting).
_UNTIL = r"(?:jusqu'?(?:au|a|à)|until|till|through|bis|tot|hasta|fino al?|ate|até|du|from|vom|del|dal)\b"
_OOO_SENTENCES = re.compile(
    r"^(?:(?:merci|thank you|thanks|vielen dank|danke|bedankt|gracias|grazie|obrigad[oa])[^.!\n]{0,60}[.!]\s*)?"
    r"(?:je suis (?:actuellement |en ce moment )?(?:absente?|en conges?|en vacances|hors du bureau|en deplacement)|"
    r"je serai (?:absente?|en conges?)|"
    r"i (?:am|will be|'m) (?:currently |now )?(?:out of (?:the )?office|away|on (?:annual )?(?:leave|vacation|holiday))|"
    r"i'm (?:currently )?(?:out of (?:the )?office|away|on (?:leave|vacation|holiday))|"
    r"ich bin (?:derzeit |zurzeit |momentan |vom .{0,30})?(?:nicht im buro|abwesend|im urlaub|ausser haus)|"
    r"ik ben (?:momenteel |tot .{0,30})?(?:afwezig|niet (?:aanwezig|op kantoor)|met vakantie)|"
    r"(?:estoy|me encuentro|estare) (?:fuera de la oficina|de vacaciones|ausente)|"
    r"(?:sono|saro) (?:fuori (?:ufficio|sede)|assente|in ferie)|"
    r"(?:estou|estarei) (?:fora do escritorio|ausente|de ferias))")
# A greeting before it, on its own line or ending at a comma: "Bonjour,", "Bonjour Jean,", "Dear Sir or Madam,".
_GREETING = re.compile(r"^(?:bonjour|bonsoir|hello|hi|dear|guten tag|hallo|goedendag|hola|buongiorno|ola|olá|"
                       r"madame|monsieur|sehr geehrte)\b(?:[ \t]+[^\s,!.]+){0,4}[ \t]*(?:[,!.]|\n)\s*",
                       re.IGNORECASE)


# The autoresponder's own words at the start of a body, followed by a separator or a date ("Absent du bureau
# jusqu'au 3 janvier"); not the thanks ("Thank you for your message: …" is also how people start).
_BODY_PHRASES = tuple(p for p in AUTO_REPLY_PHRASES if not p.startswith("thank") and p != "ooo")
_AUTO_BODY = re.compile(r"^\[?(?:" + _alternatives(_BODY_PHRASES) + r")(?:" + _AFTER_PHRASE + r"|\s+" + _UNTIL + r")")


def _lead(body: str) -> str:
    """The first words of the body, folded, after a greeting line: what an autoresponder's text starts with."""
    text = body.lstrip()[:1500]
    for _ in range(2):  # "Madame, Monsieur,"
        text = _GREETING.sub("", text, count=1).lstrip()
    return _fold(text[:400])


def _auto_body(facts: _Facts) -> KindResult | None:
    """A body that starts as an autoresponder's does. Its own words ("Réponse automatique :", "Out of office until
    …", "Absent du bureau jusqu'au …") are enough; a sentence a person might also write ("Je suis absente du
    bureau jusqu'au 3 décembre") counts only with Outlook's X-Auto-Response-Suppress or a mail system's return
    path, and never when it asks a question."""
    lead = _lead(facts.body)
    if not lead or "?" in lead:
        return None  # an autoresponder states, a person asks
    if _AUTO_BODY.match(lead):
        return KindResult(MailKind.AUTO_REPLY, "texte de réponse automatique (« " + lead[:40] + " »)")
    if not _OOO_SENTENCES.match(lead):
        return None
    if facts.msg.get("X-Auto-Response-Suppress") is not None or facts.null_sender:
        return KindResult(MailKind.AUTO_REPLY, "message d'absence avec X-Auto-Response-Suppress (« "
                          + lead[:40] + " »)")
    return None


# In this order: a bounce is never an auto-reply, an auto-reply beats bulk. Every detector reads headers or the
# structure of the mail (a subject only when it starts with an autoresponder's words); nothing else makes a
# mail automatic, so a member's request is never dropped on a word of its text.
DETECTORS: tuple[Detector, ...] = (_report, _report_fields, _failure_notice, _machine_reports, _receipts,
                                   _auto_headers, _auto_subject, _auto_body, _other_robots, _bulk, _newsletter,
                                   _mail_system)


def detect(msg: Message, body: str, raw_text: str) -> KindResult:
    """The kind of the mail, by the first detector that recognises it; NORMAL when none does."""
    facts = _Facts.of(msg, body, raw_text)
    for detector in DETECTORS:
        result = detector(facts)
        if result is not None:
            return result
    return KindResult(MailKind.NORMAL, "")
