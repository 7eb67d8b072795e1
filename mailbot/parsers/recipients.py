"""Whom a mail was addressed to, as its author wrote it (issue 13, point 1: copies are not requests).

Pure recognition, no database: the router decides what a copy does (router.copy_or_repeat), the copies workflow
records it. The club's address counts in any case, with any plus tag (its reply and command addresses are
aide+…@club): "Aide <AIDE+x@Club.test>" is the club. Only To and Cc count for the addressing: Reply-To says where
answers go, not who was written to, and Delivered-To / X-Original-To say where the mail was delivered (to the
club, whether it was named or blind-copied).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from enum import Enum

from mailbot.parsers.model import InboundMail
from mailbot.parsers.rules import fold
from mailbot.parsers.subjects import strip_subject_prefixes


class Addressing(str, Enum):
    TO = "to"        # the club is among the To: recipients: written to the club
    CC = "cc"        # the club is only in Cc: copied
    BLIND = "blind"  # To/Cc name other people, not the club: the club was blind-copied (Bcc)
    NONE = "none"    # To/Cc name nobody at all ("undisclosed-recipients:;"): read as written to the club


def _local_and_domain(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().lower().rpartition("@")
    return local.split("+", 1)[0], domain


def is_club_address(address: str, club_addresses: Iterable[str]) -> bool:
    """Whether `address` is one of the club's (`club_addresses`), in any case and with any plus tag.

    Besides whole addresses, `club_addresses` may hold "@domain" (any address of the club's own domain: a public
    contact@ forwarded to the mailbox is the club too) and "!address" (a person at that domain, e.g. Aideur, who is
    not the club): see config.Settings.club_addresses."""
    if "@" not in address:
        return False
    local, domain = _local_and_domain(address)
    clubs = tuple(club_addresses)
    if any((local, domain) == _local_and_domain(club[1:]) for club in clubs if club.startswith("!")):
        return False
    if any(club.startswith("@") and domain == club[1:].lower() for club in clubs):
        return True
    return any((local, domain) == _local_and_domain(club) for club in clubs if "@" in club and club[0] not in "@!")


def addressing(mail: InboundMail, club_addresses: Iterable[str]) -> Addressing:
    """How the club was addressed in this mail (To, Cc, blind copy, or nobody named at all)."""
    clubs = tuple(club_addresses)
    if any(is_club_address(address, clubs) for address in mail.to):
        return Addressing.TO
    if any(is_club_address(address, clubs) for address in mail.cc):
        return Addressing.CC
    if any("@" in address for address in (*mail.to, *mail.cc)):
        return Addressing.BLIND
    return Addressing.NONE


def others(mail: InboundMail, club_addresses: Iterable[str]) -> tuple[str, ...]:
    """The people named in To/Cc besides the club and the sender (in order, once each): who else got the mail."""
    clubs = tuple(club_addresses)
    seen: dict[str, None] = {}
    for address in (*mail.to, *mail.cc):
        address = address.strip().lower()
        if "@" in address and address != mail.from_address and not is_club_address(address, clubs):
            seen.setdefault(address, None)
    return tuple(seen)


def is_copy(mail: InboundMail, club_addresses: Iterable[str]) -> bool:
    """Whether the club only got a copy: it is in Cc only, or blind-copied. A mail naming the club in To is
    written to it, however many others it names too (mass mails are another rule's)."""
    return addressing(mail, club_addresses) in (Addressing.CC, Addressing.BLIND)


def is_reply_all(mail: InboundMail, club_addresses: Iterable[str]) -> bool:
    """Whether the mail answers a thread (In-Reply-To/References) and also goes to people other than the club and
    its sender: a reply-all in a conversation the club is part of, whichever header names the club."""
    return bool(mail.in_reply_to or mail.references) and bool(others(mail, club_addresses))


# A reminder's own words around the subject it repeats (folded text): "Relance : Devis", "2e relance - Devis",
# "Nouvelle relance : Devis", "Relance n°2 : Devis", "Suite à ma demande : Devis"; "Devis (relance)", "Devis -
# URGENT", "Devis [rappel]". Only with a separator or brackets: "Relance de mes clients" is a subject.
_WORD = (r"(?:(?:nouvelle|derniere|\d+\s*(?:e|eme|ere|er)?)\s+)?(?:relance|rappel|urgent|reminder)"
         r"(?:\s*n\s*[°o.]?\s*\d+)?")
_REMINDER = re.compile(rf"^(?:{_WORD}|suite(?:\s+a\s+(?:ma|mon|notre)\s+(?:demande|mail|message|courriel))?)"
                       r"\s*[:\-–—]\s*", re.IGNORECASE)
_REMINDER_AFTER = re.compile(rf"\s*(?:[(\[]\s*{_WORD}\s*[)\]]|\s[\-–—:]\s*{_WORD})\s*[!.]*\s*$", re.IGNORECASE)
_TAGS = re.compile(r"^\s*\[[^\[\]]{1,40}\]\s*")


def subject_key(subject: str) -> str:
    """A subject as a person would compare two of them: without the reply and forward prefixes ("RE: RE:", "TR :"),
    bracket tags ("[CA-2026-0042]", "[EXTERNE]"), a reminder's word ("Relance :"), case, accents, punctuation at
    the ends and spacing. "" for a subject with nothing left (it matches nothing)."""
    text = fold(" ".join((subject or "").split()))
    while True:
        before = text
        text = strip_subject_prefixes(text)
        text = _TAGS.sub("", text)
        text = _REMINDER.sub("", text)
        text = _REMINDER_AFTER.sub("", text)
        if text == before:
            break
    key = " ".join(text.strip(" .!?:;,-–—…\"'«»()").split())
    return "" if key in GENERIC_SUBJECTS else key


# Subjects that say nothing of what is asked: two requests titled "Question" are not one request.
GENERIC_SUBJECTS = frozenset({
    "", "bonjour", "bonsoir", "hello", "salut", "question", "questions", "une question", "petite question",
    "demande", "ma demande", "une demande", "demande d'aide", "besoin d'aide", "aide", "info", "infos", "information",
    "informations", "urgent", "sans objet", "no subject", "pas d'objet", "(sans objet)", "test", "merci",
})
