"""Mails that are not requests for help (issue 13, point 7): calendar invitations and their answers, mails sent
to many people, a bare thank-you. Recognition only: the router decides what follows (router.not_requests)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.message import Message
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import mime
from .rules import COURTESY, fold

PARIS = ZoneInfo("Europe/Paris")
# The iTIP methods (RFC 5546) a calendar client sends: none is a request for help.
METHODS = ("REQUEST", "REPLY", "CANCEL", "COUNTER", "PUBLISH", "REFRESH", "ADD", "DECLINECOUNTER")
_CALENDAR_TYPES = ("text/calendar", "application/ics", "text/x-vcalendar", "application/x-ics")


@dataclass(frozen=True)
class Invitation:
    """What a calendar part says, for Aideur's one short notice."""

    method: str  # REQUEST, REPLY, CANCEL, COUNTER… ("" when the part names none: a bare .ics)
    summary: str  # the event's title, "" when absent
    organizer: str  # "Name <address>" or the address, "" when absent
    start: datetime | None  # in Paris time; None when there is no readable DTSTART
    all_day: bool = False
    status: str = ""  # an answer's PARTSTAT (ACCEPTED, DECLINED, TENTATIVE…)


def invitation_of(msg: Message | bytes) -> Invitation | None:
    """The calendar part of a mail (text/calendar, or an .ics attachment), or None when it has none. A mail
    attached to the mail (message/rfc822: a forwarded invitation a member asks about) is not opened."""
    if isinstance(msg, bytes):
        try:
            msg = mime.load(msg)
        except Exception:  # noqa: BLE001 - unreadable: no calendar part
            return None
    for part in _own_parts(msg):
        if part.is_multipart():
            continue
        ctype = part.get_content_type().lower()
        try:
            name = str(part.get_filename() or "")
        except Exception:  # noqa: BLE001
            name = ""
        if ctype not in _CALENDAR_TYPES and not name.lower().endswith((".ics", ".vcs")):
            continue
        try:
            data = part.get_payload(decode=True)
        except Exception:  # noqa: BLE001
            data = None
        text = data.decode(part.get_content_charset() or "utf-8", "replace") if isinstance(data, bytes) else ""
        if "BEGIN:VCALENDAR" not in text.upper()[:2000] and "BEGIN:VEVENT" not in text.upper():
            continue
        try:
            param = str(part.get_param("method") or "")
        except Exception:  # noqa: BLE001
            param = ""
        return _read(text, param)
    return None


def _own_parts(msg: Message) -> list[Message]:
    found = [msg]
    payload = msg.get_payload()
    if msg.is_multipart() and isinstance(payload, list) and msg.get_content_maintype() != "message":
        for part in payload:
            if isinstance(part, Message):
                found.extend(_own_parts(part))
    return found


def _lines(text: str) -> list[tuple[str, dict[str, str], str]]:
    """Unfolded content lines (RFC 5545 3.1) as (NAME, {PARAM: value}, value)."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text.replace("\r\n", "\n"))
    lines = []
    for line in unfolded.split("\n"):
        head, sep, value = line.partition(":")
        if not sep:
            continue
        # A parameter may hold a quoted colon (CN="A: B"): split on the first colon outside quotes.
        match = re.match(r'^((?:[^:"]|"[^"]*")*):(.*)$', line)
        if match:
            head, value = match.group(1), match.group(2)
        name, *params = head.split(";")
        values = {}
        for param in params:
            key, _, val = param.partition("=")
            values[key.strip().upper()] = val.strip().strip('"')
        lines.append((name.strip().upper(), values, value.strip()))
    return lines


def _unescape(value: str) -> str:
    return value.replace("\\n", " ").replace("\\N", " ").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")


def _read(text: str, param: str) -> Invitation:
    method, summary, organizer, status = param.strip().upper(), "", "", ""
    start: datetime | None = None
    all_day = False
    in_event = False
    for name, params, value in _lines(text):
        if name == "METHOD" and not method:
            method = value.upper()
        elif name == "BEGIN" and value.upper() == "VEVENT":
            in_event = True
        elif name == "END" and value.upper() == "VEVENT":
            if start is not None or summary:
                break  # the first event is the one the mail is about
            in_event = False
        elif not in_event:
            continue
        elif name == "SUMMARY" and not summary:
            summary = " ".join(_unescape(value).split())[:200]
        elif name == "ORGANIZER" and not organizer:
            address = re.sub(r"(?i)^mailto:", "", value)
            organizer = f"{params['CN']} <{address}>" if params.get("CN") else address
        elif name == "ATTENDEE" and params.get("PARTSTAT") and not status:
            status = params["PARTSTAT"].upper()
        elif name == "DTSTART" and start is None:
            start, all_day = _start(value, params)
    return Invitation(method, summary, organizer, start, all_day, status)


# Windows zone names Outlook writes in TZID, the ones a French club meets; anything unknown is read as Paris.
_WINDOWS = {"romance standard time": "Europe/Paris", "w. europe standard time": "Europe/Berlin",
            "gmt standard time": "Europe/London", "utc": "UTC", "coordinated universal time": "UTC"}


def _start(value: str, params: dict[str, str]) -> tuple[datetime | None, bool]:
    try:
        if params.get("VALUE", "").upper() == "DATE" or re.fullmatch(r"\d{8}", value):
            day = datetime.strptime(value[:8], "%Y%m%d").date()
            return datetime.combine(day, time(0, 0), PARIS), True
        moment = datetime.strptime(value.rstrip("Zz")[:15], "%Y%m%dT%H%M%S")
    except ValueError:
        return None, False
    if value.upper().endswith("Z"):
        return moment.replace(tzinfo=UTC).astimezone(PARIS), False
    zone_name = params.get("TZID", "").strip().strip("/")
    try:
        zone = ZoneInfo(_WINDOWS.get(zone_name.lower(), zone_name)) if zone_name else PARIS
    except (ZoneInfoNotFoundError, ValueError):
        zone = PARIS
    return moment.replace(tzinfo=zone).astimezone(PARIS), False


_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre")


def when(invitation: Invitation) -> str:
    """« mardi 8 décembre 2026 à 14 h 30 » (Paris time), « … (toute la journée) », "" without a start."""
    start = invitation.start
    if start is None:
        return ""
    day: date = start.date()
    text = f"{_DAYS[day.weekday()]} {'1er' if day.day == 1 else day.day} {_MONTHS[day.month - 1]} {day.year}"
    if invitation.all_day:
        return text + " (toute la journée)"
    return text + f" à {start.hour} h {start.minute:02d}"


WHAT = {"REQUEST": "invitation", "PUBLISH": "invitation", "ADD": "invitation", "REPLY": "réponse à une invitation",
        "CANCEL": "annulation", "COUNTER": "contre-proposition", "DECLINECOUNTER": "contre-proposition refusée",
        "REFRESH": "demande de mise à jour"}
ANSWERS = {"ACCEPTED": "acceptée", "DECLINED": "refusée", "TENTATIVE": "acceptée provisoirement",
           "DELEGATED": "déléguée", "NEEDS-ACTION": "sans réponse"}


def describe(invitation: Invitation) -> str:
    """« invitation », « réponse à une invitation (acceptée) »…: what the calendar part is, in French."""
    what = WHAT.get(invitation.method, "invitation")
    if invitation.method == "REPLY" and invitation.status in ANSWERS:
        what += f" ({ANSWERS[invitation.status]})"
    return what


# --- many recipients --------------------------------------------------------------------------------------------
def recipients(to: tuple[str, ...], cc: tuple[str, ...], own: tuple[str, ...] = ()) -> int:
    """How many distinct people a mail was addressed to (To and Cc), the club's own addresses left out."""
    mine = {address.lower() for address in own}
    return len({address.lower() for address in (*to, *cc) if address and address.lower() not in mine})


# --- a bare thank-you --------------------------------------------------------------------------------------------
# Words said before a thanks in the same breath: « Super merci », « Ok merci », « Parfait merci ».
_BEFORE_THANKS = (r"(?:(?:ok|okay|super|top|parfait|genial|cool|trop\s+bien|tres\s+bien|nickel|bien\s+recu|"
                  r"c'est\s+note|note|entendu|d'accord|daccord)\s+)?")
_THANKS = re.compile(
    r"^" + _BEFORE_THANKS + r"(?:(?:et\s+)?encore\s+)?(?:un\s+)?"
    r"(?:(?:(?:tres|vraiment)\s+)?(?:grand|immense|gros|enorme)\s+)?"
    r"(?:merci+|mille\s+mercis?|mercis?|thanks?|thank\s+you|thx|ty)"
    r"(?:\s+(?:beaucoup|bcp|bien|merci+|(?:mille|1000|cent|100)\s+fois|infiniment|encore|"
    r"a\s+(?:vous|toi|tous|toutes|toute\s+l'equipe|tous\s+et\s+a\s+toutes)|"
    r"(?:a\s+|pour\s+)?(?:aideur|au\s+club|a\s+l'equipe|le\s+club|l'equipe)|"
    r"(?:pour|de)\s+(?:tout|(?:votre|ton|cette|l'|la)\s*(?:aide|reponse|retour|temps|soutien|coup\s+de\s+main|"
    r"accompagnement|disponibilite|intervention|mise\s+en\s+relation|reactivite)"
    r"(?:\s+(?:si\s+|tres\s+|vraiment\s+)?(?:precieuse?|rapide|efficace|utile))?"
    r"(?:\s+avec\s+[A-Z][\w'-]*)?|"
    r"le\s+(?:coup\s+de\s+main|retour|suivi|contact))|"
    r"d'avoir\s+pris\s+le\s+temps|"
    r"du\s+fond\s+du\s+coeur|une\s+fois\s+de\s+plus|encore\s+une\s+fois|(?:a\s+)?[A-Z][\w'-]*|so\s+much|"
    r"a\s+lot))*$"
)
_NICE = re.compile(r"^(?:c'est\s+)?(?:(?:tres|vraiment|super)\s+)?(?:parfait|super|genial|top|nickel|"
                   r"au\s+top|formidable|excellent|tres\s+bien|c'est\s+(?:regle|resolu|parfait)|ok|okay|cool|"
                   r"bien\s+recu|trop\s+bien|entendu|c'est\s+note|note)$")


def _symbols_out(text: str) -> str:
    """Emoji, pictographs and other symbols are courtesy too (« Un grand merci 🙏 »)."""
    return "".join(" " if unicodedata.category(c).startswith("S") or c in "\u200d\ufe0f" else c for c in text)


def _thanks_piece(piece: str) -> tuple[bool, bool]:
    """(is courtesy, is a thanks) for one piece of text between punctuation."""
    folded = fold(piece)
    if not folded:
        return True, False
    # Names keep their capital (« Merci Paul », « mise en relation avec Bruno »); every other word is folded.
    words = _plain_case(piece).split()
    named = " ".join(w if index and w[:1].isupper() else fold(w) for index, w in enumerate(words))
    if _THANKS.match(folded) or _THANKS.match(named):
        return True, True
    return bool(COURTESY.match(folded) or _NICE.match(folded)), False


def _plain_case(piece: str) -> str:
    """Folded but with capitals kept (a name after « merci »: « Merci Aideur », « Merci Paul »)."""
    return " ".join("".join(c for c in unicodedata.normalize("NFKD", piece)
                            if not unicodedata.combining(c)).split()).replace("’", "'")


_SIGNATURE_WORD = re.compile(r"^(?:[A-ZÀ-Ý][\w'.&-]*|[\w.+-]+@[\w.-]+|[+\d().\s/-]*\d[\d().\s/-]*|de|du|des|la|le|"
                             r"les|et|&|-|–|—|\|)$")


def _signature_line(line: str) -> bool:
    """A name, a company, a phone number or an address on its own line: what an unmarked signature holds."""
    stripped = line.strip()
    if not stripped:
        return True
    if len(stripped.split()) > 6 or stripped[-1] in "?!:;,":
        return False
    return all(_SIGNATURE_WORD.match(word) for word in stripped.split())


def is_bare_thanks(text: str) -> bool:
    """Whether a text says thank you and nothing else: thanks and courtesy (« Merci, bonne journée », « Un grand
    merci 🙏 »), then at most an unmarked signature (a name, a company, a phone). A thanks followed by anything to
    act on (« Merci de me rappeler… », « merci, mais j'ai un autre problème : … ») or a question is not."""
    if not text.strip() or "?" in text:
        return False
    thanked = False
    lines = [_symbols_out(line) for line in text.splitlines() if not line.lstrip().startswith(">")]
    for index, line in enumerate(lines):
        pieces = [piece.strip(" -–—*_~") for piece in re.split(r"[,.!;:…]+", line)]
        verdicts = [_thanks_piece(piece) for piece in pieces if piece]
        if all(courtesy for courtesy, _ in verdicts):
            thanked = thanked or any(thanks for _, thanks in verdicts)
            continue
        # What is left must be a signature, after a thanks.
        return thanked and all(_signature_line(rest) for rest in lines[index:])
    return thanked


# What starts a postscript: the member's text again, below a signature.
_POSTSCRIPT = re.compile(r"^\s*(?:p\s*[.-]?\s*s\b|ps\b|n\s*\.\s*b\b|post-?scriptum\b)", re.IGNORECASE)


def says_more_below(full: str, own: str) -> bool:
    """Whether the mail's whole text (`full`) asks something past the member's own words (`own`, cut at the
    signature mark « -- » or the phone's « Envoyé de mon iPhone »): a postscript or a question below the signature
    is still her text (« Merci !\\n-- \\nAlice\\n\\nPS : pourriez-vous aussi… »). Quoted lines do not count."""
    last = next((line.strip() for line in reversed(own.splitlines()) if line.strip()), "")
    start = full.find(last) + len(last) if last and last in full else 0
    below = [line for line in full[start:].splitlines() if not line.lstrip().startswith(">")]
    return any("?" in line or _POSTSCRIPT.match(line) for line in below)
