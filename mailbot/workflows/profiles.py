"""A member's own profile by mail (docs/rules.md §9, §10): see it, change any answer, end membership, erase the data.

Proof of address before any change (issue 11, point 1). A `From:` can be forged, so a mail changes the member's
data only when it comes back through a reply address that only their mailbox received, made for that purpose:
their profile mail (scope p), or the invitation sent to that very address (scope r, bound to the address). Any
other way in (a fresh mail to the plain address, someone else's reply address) changes nothing: the change is
kept aside (PendingChange) and a confirmation goes to the address on record, with a reply address of its own
(scope v, that change only, used once); only the answer OUI through it applies the change.
Ending membership and erasing data always wait for such a confirmation (scope x).
"""
from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select, update

from mailbot.compose import excerpt
from mailbot.french import CIVILITIES, civilite
from mailbot.matching import index_member
from mailbot.members import erase_member, export_address
from mailbot.models import Acceptance, Member, PendingChange
from mailbot.parsers import InboundMail
from mailbot.parsers.forwards import is_forward_subject
from mailbot.parsers.quotes import quoteless
from mailbot.parsers.registration import FIELD_LABELS, FormReply, Intent, confirmation_of, intent_of, parse_form
from mailbot.parsers.rules import fold, is_courtesy_only
from mailbot.parsers.subjects import strip_subject_prefixes
from mailbot.ticket_states import Move, move
from mailbot.tokens import (
    ROLE_MEMBER,
    SCOPE_CONFIRM,
    SCOPE_PROFILE,
    SCOPE_REGISTRATION,
    SCOPE_VERIFY,
    Token,
    TokenSigner,
)
from mailbot.workflows.aideur import notify_aideurs
from mailbot.workflows.appeals import tell_helpers_need_is_over
from mailbot.workflows.base import Outgoing, WorkflowContext
from mailbot.workflows.requests import withdraw
from mailbot.workflows.tickets import open_tickets_of, record_event

# The answers a member can change by mail (the e-mail address is the membership key: not by form).
PROFILE_KEYS = ("civility", "last_name", "first_name", "company", "activity", "postal_address", "phone", "skills",
                "hobbies", "particulars", "visibility", "directory_contacts", "accepts_appeals",
                "accepts_announcements", "image_rights")
# Yes/no answers stored as booleans (the others are text; image_rights is "oui", "non" or NULL: not given).
YES_NO_KEYS = ("accepts_appeals", "accepts_announcements")
PENDING_DAYS = 14  # a confirmation not given within two weeks lapses: the member must ask again
ACTION_WORDS = {"resilier": "mettre fin à votre adhésion", "effacer": "effacer toutes vos données",
                "exporter": "vous envoyer une copie de toutes vos données",
                "profile": "modifier votre profil comme indiqué"}
ERASE, EXPORT = "effacer", "exporter"
EXPORT_FILE = "mes-donnees.json"

# The rights anyone the club holds data on can use by mail (RGPD art. 15 and 17), as folded words.
_RIGHTS = {
    ERASE: r"(?:effacer|effacez|supprimer|supprimez|detruire|detruisez|retirer|retirez)\s+(?:de\s+)?(?:toutes\s+)?"
           r"(?:mes|toutes\s+mes)\s+(?:donnees|informations|coordonnees)(?:\s+personnelles)?"
           r"|(?:effacement|suppression|destruction)\s+(?:de\s+)?(?:toutes\s+)?(?:mes|des)\s+"
           r"(?:donnees|informations|coordonnees)|droit\s+a\s+l\s*oubli|droit\s+a\s+l\s*effacement",
    EXPORT: r"(?:(?:recevoir|obtenir|avoir|consulter|voir|connaitre|exporter|envoyer|envoyez|transmettre|"
            r"transmettez|communiquer|communiquez|copie\s+de|export\s+de|acces\s+a|acceder\s+a)\s+)?"
            r"(?:toutes\s+)?(?:mes\s+donnees(?:\s+personnelles)?|les\s+donnees\s+que\s+vous\s+avez\s+sur\s+moi)"
            r"|droit\s+d\s*acces|export\s+rgpd",
}
_RIGHTS_RE = {right: re.compile(rf"(?<![a-z]){pattern}(?![a-z])") for right, pattern in _RIGHTS.items()}
# Words that may surround such a request in a short line without making it another subject.
_RIGHTS_FILLER = frozenset({
    "je", "j", "veux", "voudrais", "souhaite", "souhaiterais", "aimerais", "demande", "demander", "merci", "svp",
    "stp", "s", "il", "vous", "plait", "de", "d", "du", "des", "la", "le", "les", "l", "a", "au", "aux", "me", "m",
    "moi", "pour", "et", "que", "bonjour", "bonsoir", "rgpd", "pouvez", "pourriez", "bien", "vouloir", "oui", "ok",
    "tout", "toutes", "ma", "mes", "donnees", "personnelles",
})


def rights_request(subject: str, text: str, *, anywhere: bool = False) -> str | None:
    """"effacer mes données" (ERASE) or "mes données" (EXPORT) in a mail, else None. A member's fresh mail must say
    only that in its subject or its short first line ("Mes données comptables ont disparu" is a request for help);
    with `anywhere` (a former member or a non-member, whose only business with the club is this) a sentence of
    the first lines is enough ("Oui, merci d'effacer mes données s'il vous plaît")."""
    if intent_of(subject, text) is Intent.ERASE:
        return ERASE
    pieces = [strip_subject_prefixes(subject or "")]
    lines = [line.strip() for line in (text or "").splitlines() if line.strip() and not line.startswith(">")]
    pieces += lines[:4] if anywhere else lines[:1]
    for piece in pieces:
        words = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(piece)).split())
        for right in (ERASE, EXPORT):  # erasure first: "effacer mes données" names the data too
            pattern = _RIGHTS_RE[right]
            if not pattern.search(words):
                continue
            if anywhere or all(word in _RIGHTS_FILLER for word in pattern.sub(" ", words).split()):
                return right
    return None


# --- the club's announcements: "plus d'annonces" / "annonces" (issue 17) --------------------------------------------
ANNOUNCEMENTS = "accepts_announcements"
# Read on folded words (accents off, punctuation made spaces: "plus d'annonces" is "plus d annonces").
_STOP_ANNOUNCEMENTS = re.compile(r"""(?x)(?<![a-z])(?:
    (?:plus|pas|stop|stopper|stoppez|arret|arreter|arretez|fini|finies|assez|non)\s+(?:d|des|les|aux|de|vos|a|au)?
        \s*(?:les\s+)?annonces?
  | (?:ne\s+(?:plus|pas)\s+|plus\s+)(?:me\s+|m\s+)?(?:recevoir|envoyer|avoir|adresser)\s+
        (?:les\s+|vos\s+|d\s+|des\s+|de\s+)?annonces?
  | (?:je\s+|j\s+)?(?:ne\s+|n\s+)?(?:veux|souhaite|voudrais|desire|ai\s+besoin)\s+(?:plus|pas)\s+
        (?:de\s+|d\s+)?(?:recevoir\s+)?(?:les\s+|vos\s+|d\s+|des\s+)?annonces?
  | (?:me\s+|m\s+)?(?:desabonner|desinscrire|retirer)\s+(?:des|aux|de|du\s+fil\s+des)\s+annonces?
  | desabonnement\s+(?:des\s+|aux\s+)?annonces?
)(?![a-z])""")
_START_ANNOUNCEMENTS = re.compile(r"""(?x)(?<![a-z])(?:
    (?:reprendre|reprenez|recevoir|reactiver|reactivez|remettre|relancer|retablir)\s+
        (?:a\s+nouveau\s+|de\s+nouveau\s+)?(?:les\s+|vos\s+|des\s+)?annonces?
  | (?:me\s+|m\s+)?(?:reabonner|reinscrire|abonner|inscrire)\s+(?:aux|des)\s+annonces?
  | annonces?
)(?![a-z])""")
# Words that may surround the request on its line without making it about something else. No negation here
# ("ne", "plus", "pas"): "annonces" with them is either the stop request or not this at all.
_ANNOUNCEMENT_FILLER = frozenset({
    "bonjour", "bonsoir", "merci", "svp", "stp", "s", "il", "vous", "plait", "du", "club", "de", "la", "part",
    "les", "des", "d", "je", "j", "moi", "me", "m", "please", "et", "a", "aux", "au", "l", "le", "votre", "vos",
    "souhaite", "souhaiterais", "voudrais", "veux", "aimerais", "desire", "bien", "ok", "oui", "activites",
    "sondages", "formations", "mails", "mail", "e", "emails", "courriels", "nouveau", "recevoir", "toutes",
    "tous", "envoi", "envois", "pouvez", "pourriez", "cordialement", "annonce", "annonces", "reprendre",
})
_ANNOUNCEMENT_WORDS = 14  # a longer line is a sentence about something else


def announcements_asked(subject: str, text: str) -> bool | None:
    """What a member's mail says about the club's announcements: False for "plus d'annonces" (and "stop
    annonces", "je ne veux plus recevoir les annonces", "me désabonner des annonces"), True for "annonces" (and
    "reprendre les annonces", "recevoir à nouveau les annonces"), None when it says neither.

    Like the other members' words, it must be what the first line (or the subject, with little else written)
    says, alone or with courtesy words around it: "Annonce immobilière : comment la rédiger ?" or "je passe une
    annonce pour recruter" are requests for help."""
    own = [line.strip() for line in (text or "").splitlines() if line.strip() and not line.lstrip().startswith(">")]
    if own and re.fullmatch(r"(?:bonjour|bonsoir|hello|madame|monsieur|cher|chere)\b[^\n]{0,40}", fold(own[0])) \
            and len(own[0].split()) <= 4:
        own = own[1:]  # "Bonjour," alone on its line
    first = own[0] if own else ""
    pieces = [first]
    if len(" ".join(own[:6]).split()) <= 10 or is_courtesy_only("\n".join(own)):
        # The subject speaks for a mail that says (almost) nothing else: under "Annonces", a paragraph about
        # writing a job advert is a request.
        pieces.append(strip_subject_prefixes(subject or ""))
    for piece in pieces:
        words = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(piece)).split())
        if not words or len(words.split()) > _ANNOUNCEMENT_WORDS or "annonce" not in words:
            continue
        for wanted, pattern in ((False, _STOP_ANNOUNCEMENTS), (True, _START_ANNOUNCEMENTS)):
            if pattern.search(words) and all(word in _ANNOUNCEMENT_FILLER for word in pattern.sub(" ", words).split()):
                return wanted
    return None


def announcements_footer(club_address: str = "") -> str:
    """The last line of every announcement (activities, polls): how to stop them. The activities and polls
    helpers put it under their announcements; the words are read by `announcements_asked`."""
    where = f" à {club_address}" if club_address else " au Club"
    return f"Pour ne plus recevoir les annonces du Club, écrivez « plus d'annonces »{where}."


def image_rights_label(member: Member) -> str:
    """The member's image-rights choice as activity participant lists show it to Aideur."""
    choice = {"oui": "oui", "non": "non"}.get(member.image_rights or "", "non précisé")
    return f"droit à l'image : {choice}"


def change_announcements(ctx: WorkflowContext, mail: InboundMail, raw_sha256: str, member: Member, wanted: bool, *,
                         proved: bool) -> None:
    """"plus d'annonces" (wanted False) or "annonces" (True) from `member`. Applied at once when the mail proved it
    comes from the member's mailbox (`proved`: a reply through a reply address made for them, From: that address;
    see has_proof); otherwise it is a profile change like any other: kept aside, and the address on record is
    asked to confirm (a forged From: must not silence, or restart, someone else's announcements)."""
    value = "oui" if wanted else "non"
    if bool(member.accepts_announcements) == wanted:
        # Nothing would change: saying so to the address on record is harmless, whoever wrote.
        _reply(ctx, mail, member, "annonces", {"on": wanted, "already": True})
        return
    if not proved:
        _ask_change_confirmation(ctx, mail, raw_sha256, member, {ANNOUNCEMENTS: value}, None,
                                 differences(member, {ANNOUNCEMENTS: value}))
        return
    _changed(ctx, mail, member, apply_values(member, {ANNOUNCEMENTS: value}))
    _reply(ctx, mail, member, "annonces", {"on": wanted, "already": False})


# --- the profile as fields -----------------------------------------------------------------------------------------
def profile_values(member: Member) -> dict[str, str]:
    values = {key: str(getattr(member, key) or "") for key in PROFILE_KEYS if key not in YES_NO_KEYS}
    for key in YES_NO_KEYS:
        values[key] = "oui" if getattr(member, key) else "non"
    values["civility"] = CIVILITIES.get(member.civility or "", "")
    values["email"] = member.email or ""
    return values


def form_lines(values: dict[str, str], *, with_acceptance: bool = True) -> list[str]:
    """The fill-in form, one "Label : value" line per field, in the order the parser knows."""
    lines = []
    for key, label in FIELD_LABELS.items():
        if key == "acceptance" and not with_acceptance:
            continue
        value = " ".join(values.get(key, "").split())  # one line per field: the reply parser reads lines
        lines.append(f"{label} : {value}".rstrip())
    return lines


def profile_lines(member: Member) -> list[str]:
    return form_lines(profile_values(member), with_acceptance=False)


def apply_values(member: Member, values: dict[str, str]) -> list[str]:
    """Set the given answers; returns the labels of what actually changed."""
    changed = []
    for key, value in values.items():
        if key not in PROFILE_KEYS:
            continue
        new: object = value == "oui" if key in YES_NO_KEYS else value.strip()
        if key == "civility":
            new = civilite(value) or None  # not given: NULL
        if key == "image_rights":
            new = value if value in ("oui", "non") else None
        if getattr(member, key) != new:
            setattr(member, key, new)
            changed.append(FIELD_LABELS[key].split(" (")[0])
    return changed


# --- what a member's reply to a membership mail is --------------------------------------------------------------
# Words a member may write around form lines ("voici mon nouveau numéro :") without it being a request for help.
AROUND_FORM_WORDS = 12


def own_words(mail: InboundMail) -> str:
    """What the member wrote in this mail. A body made of form lines is sometimes taken whole for a signature
    (a "Téléphone :" line looks like one): then the mail without its quote."""
    return mail.new_text if mail.new_text.strip() else quoteless(mail.text)


def is_forward(mail: InboundMail) -> bool:
    """Whether the mail passes on someone else's message: a forward subject ("TR :", "Fwd:") or a forwarded part."""
    return bool(mail.forwarded) or is_forward_subject(mail.subject)


def member_words(mail: InboundMail) -> tuple[str, str]:
    """The subject and the text a member's intents are read from (membership, data, profile, announcements,
    directory, activities, documentation, suggestion, thanks): what she wrote herself.

    What a forward's subject or forwarded part says is the third party's words, not hers (attack 13, case 7):
    "TR : Demande de résiliation" is her client ending HIS contract. Under a forward the subject counts only when
    she wrote it (no forward prefix, not the forwarded message's own subject), the text only above the forward."""
    if not is_forward(mail):
        return mail.subject, mail.new_text or mail.text
    subject = strip_subject_prefixes(mail.subject or "")
    theirs = {" ".join(fold(strip_subject_prefixes(f.subject or "")).split()) for f in mail.forwarded}
    if is_forward_subject(mail.subject) or " ".join(fold(subject).split()) in theirs:
        subject = ""
    return subject, own_words(mail)


def is_profile_answer(mail: InboundMail, member: Member) -> bool:
    """Whether a member's reply to a membership mail (welcome, profile, invitation, confirmation) answers it: form
    lines, the acceptance, a membership request ("modifier", "résilier", "effacer mes données"), or only courtesy.
    Anything else is a request for help, whatever mail it replies to (issue 12, point 1): the router opens a
    ticket for it rather than send the profile back or keep it from Aideur.

    Form lines count when they are most of what was written: a request that happens to hold one ("Activité :
    boulangerie", then a paragraph asking for a supplier) is a request, and Aideur sees the line with it."""
    own = own_words(mail)
    subject, _ = member_words(mail)
    if intent_of(subject, own) is not None or rights_request(subject, own) or is_courtesy_only(own) \
            or confirmation_of(own) is not None or announcements_asked(subject, own) is not None:
        return True
    body = mail.text.replace(mail.signature, "") if mail.signature.strip() and mail.new_text.strip() else mail.text
    form = parse_form(body, own)
    if form.acceptance is not None or form.refused:
        return True
    lines = [line for line in own.splitlines() if line.strip()][:80]
    rest = [line for line in lines if not _is_form_line(line)]
    if len(rest) < len(lines) or differences(member, dict(form.values)) or form.unreadable:
        # Form lines written (or filled in the quote): an answer, if little else was written around them.
        return is_courtesy_only("\n".join(rest)) or len(" ".join(rest).split()) <= AROUND_FORM_WORDS
    return False


def _is_form_line(line: str) -> bool:
    form = parse_form(line, line)
    return bool(form.values or form.unreadable or form.acceptance is not None or form.refused)


# --- entry points --------------------------------------------------------------------------------------------------
def profile_mail(ctx: WorkflowContext, mail: InboundMail, raw_sha256: str, member: Member,
                 token: Token | None) -> None:
    """A member writes about their membership: "modifier", the form, "résilier", "effacer mes données"; or answers
    the confirmation of a change asked earlier (token scope v)."""
    if token is not None and token.scope == SCOPE_VERIFY:
        answer_pending_change(ctx, mail, member, token.number)
        return
    text = own_words(mail)  # not the quote: the quoted profile is no answer
    subject, _ = member_words(mail)  # not a forwarded mail's subject: someone else's words
    intent = intent_of(subject, text)
    if intent in (Intent.END, Intent.ERASE):
        ask_confirmation(ctx, mail, member, "effacer" if intent is Intent.ERASE else "resilier")
        return
    if intent is None and (right := rights_request(subject, text)) is not None:
        ask_confirmation(ctx, mail, member, right)
        return
    proved = has_proof(ctx.signer, mail, member, token)
    if intent is None and (words := announcements_asked(subject, text)) is not None:
        change_announcements(ctx, mail, raw_sha256, member, words, proved=proved)
        return
    form = parse_form(mail.text, text)
    if form.unreadable:
        _reply(ctx, mail, member, "profil_erreur", {"problems": unreadable_problems(form, echo=proved)})
        return
    values = {k: v for k, v in form.values.items() if k in PROFILE_KEYS}
    wants_acceptance = form.acceptance is not None and member.conditions_version != ctx.settings.conditions_version
    if intent is None and not wants_acceptance and not form.unreadable and not differences(member, values):
        if token is None and confirmation_of(text) is not None:
            # "Oui" without the reply address of the question it answers (a forger citing its Message-ID, or a
            # provider dropping plus addresses): it confirms nothing, and nothing is sent back.
            record_event(ctx.session, None, "answer-unproven", f"membre n° {member.id} : « oui / non » hors de "
                         "l'adresse de réponse de la question, sans effet", ctx.now, actor=mail.from_address)
            return
        if is_courtesy_only(text):
            # "Merci !" to the welcome or profile mail: nothing to do, nothing to answer (anything more is routed
            # to a ticket by the router: is_profile_answer).
            record_event(ctx.session, None, "member-thanks", f"membre n° {member.id} : remerciement, sans suite",
                         ctx.now, actor=mail.from_address)
            return
    if not proved:
        wanted = differences(member, values)
        if wanted or wants_acceptance:
            _ask_change_confirmation(ctx, mail, raw_sha256, member, values, form.acceptance if wants_acceptance
                                     else None, wanted)
            return
        # Nothing would change: the profile goes back to the address on record, which is harmless.
        _reply(ctx, mail, member, "profil", {"changes": [], "accepted_now": False, "email_not_changed": ""})
        return
    changes = apply_values(member, values)
    if wants_acceptance:
        _record_acceptance(ctx, member, message_id=mail.message_id, line=form.acceptance or "",
                           raw_sha256=raw_sha256)
    _changed(ctx, mail, member, changes)
    new_email = form.values.get("email", "")
    _reply(ctx, mail, member, "profil", {
        "changes": changes,
        "accepted_now": wants_acceptance,
        "email_not_changed": new_email if new_email and new_email != member.email else "",
    })


def has_proof(signer: TokenSigner, mail: InboundMail, member: Member, token: Token | None) -> bool:
    """Whether this mail proves it comes from the member's own mailbox: it came back through a reply address
    made for this member's profile (scope p) or through the invitation sent to their address (scope r), and its
    `From:` is that address too (a forwarded reply address drives nothing)."""
    address = (member.email or "").lower()
    if token is None or not address or mail.from_address.lower() != address:
        return False
    if token.scope == SCOPE_PROFILE:
        return token.number == member.id
    return token.scope == SCOPE_REGISTRATION and signer.address_matches(token, address)


def differences(member: Member, values: dict[str, str]) -> list[dict[str, str]]:
    """The answers that would change, as {"field": label, "value": new value} (nothing is set)."""
    current = profile_values(member)
    wanted = []
    for key, value in values.items():
        new = value.strip() if key not in YES_NO_KEYS else ("oui" if value == "oui" else "non")
        if key in PROFILE_KEYS and current.get(key, "") != new:
            wanted.append({"field": FIELD_LABELS[key].split(" (")[0], "value": new or "(vide)"})
    return wanted


def unreadable_problems(form: FormReply, *, echo: bool) -> list[dict[str, str]]:
    """What cannot be read, per field. The explanations quote the value: only to a sender who proved their
    address (otherwise a forger's words would be mailed by the club to someone else)."""
    return [{"field": FIELD_LABELS[key].split(" (")[0],
             "problem": why if echo else "illisible : écrivez cette ligne à nouveau"}
            for key, why in form.unreadable.items()]


def confirmation_mail(ctx: WorkflowContext, mail: InboundMail, member: Member) -> None:
    """The member's answer to "do you confirm?": only this reply ends membership or erases the data."""
    pending = member.pending_action
    if not pending or member.pending_since is None or ctx.now - member.pending_since > timedelta(days=PENDING_DAYS):
        member.pending_action, member.pending_since = "", None
        _reply(ctx, mail, member, "confirmation_sans_objet", {})
        return
    answer = confirmation_of(mail.text or mail.new_text)  # the whole body: a PS under the signature counts
    if answer is None:
        _reply(ctx, mail, member, "confirmation_incomprise", {"action": ACTION_WORDS[pending]},
               token=Token(SCOPE_CONFIRM, member.id, ROLE_MEMBER))
        return
    member.pending_action, member.pending_since = "", None
    if answer is False:
        if pending == "resilier":
            _resignation_reason(ctx, member, status="cancelled")  # its words are not kept
        record_event(ctx.session, None, f"{pending}-cancelled", f"membre n° {member.id}", ctx.now,
                     actor=mail.from_address)
        _reply(ctx, mail, member, "confirmation_annulee", {"action": ACTION_WORDS[pending],
                                                           "former_member": member.status == "ended"})
    elif pending == "resilier":
        end_membership(ctx, mail, member)
    elif pending == EXPORT:
        send_export(ctx, mail, member.email or "", first_name=member.first_name)
    else:
        erase(ctx, mail, member)


# --- changes asked without proof of address --------------------------------------------------------------------
def new_pending(ctx: WorkflowContext, *, kind: str, email: str, member_id: int | None, values: dict[str, str],
                acceptance: str | None, mail: InboundMail, raw_sha256: str) -> PendingChange:
    """Keep a change aside until the address confirms it; an earlier one of the same kind for that address is
    superseded (only the latest question can be answered)."""
    ctx.session.execute(update(PendingChange).where(
        PendingChange.email == email, PendingChange.kind == kind, PendingChange.status == "pending",
    ).values(status="superseded", decided_at=ctx.now, values=""))
    # Questions nobody answered keep nothing past their lapse (forged ones are never answered).
    ctx.session.execute(update(PendingChange).where(
        PendingChange.status == "pending", PendingChange.asked_at < ctx.now - timedelta(days=PENDING_DAYS),
    ).values(status="expired", decided_at=ctx.now, values=""))
    pending = PendingChange(kind=kind, email=email, member_id=member_id, status="pending", asked_at=ctx.now,
                            values=json.dumps({"values": values, "acceptance": acceptance}, ensure_ascii=False),
                            message_id=mail.message_id, raw_sha256=raw_sha256)
    ctx.session.add(pending)
    ctx.session.flush()
    return pending


def open_pending(ctx: WorkflowContext, mail: InboundMail, number: int, kind: str) -> PendingChange | None:
    """The pending change this answer may decide: the right kind, still open, not lapsed, and answered from the
    very address the confirmation was sent to. Anything else decides nothing (and is recorded)."""
    pending = ctx.session.get(PendingChange, number)
    if pending is None or pending.kind != kind or pending.email != mail.from_address.lower():
        record_event(ctx.session, None, "pending-refused",
                     f"confirmation n° {number} : réponse d'une autre adresse ou d'un autre objet", ctx.now,
                     actor=mail.from_address)
        return None
    if pending.status == "pending" and ctx.now - pending.asked_at > timedelta(days=PENDING_DAYS):
        close_pending(ctx, pending, "expired")
    return pending if pending.status == "pending" else None


def close_pending(ctx: WorkflowContext, pending: PendingChange, status: str) -> None:
    """Decided: the values are blanked (data minimisation), the row stays as the trace of the question."""
    pending.status, pending.decided_at, pending.values = status, ctx.now, ""


def pending_values(pending: PendingChange) -> tuple[dict[str, str], str | None]:
    data = json.loads(pending.values or "{}")
    return dict(data.get("values") or {}), data.get("acceptance")


def answer_pending_change(ctx: WorkflowContext, mail: InboundMail, member: Member, number: int) -> None:
    """The member's answer to "do you confirm this change of your profile?" (or "is this other address yours?",
    workflows.aliases)."""
    asked = ctx.session.get(PendingChange, number)
    if asked is not None and asked.kind == "alias":
        from mailbot.workflows.aliases import answer_alias_confirmation  # it uses this module's helpers

        answer_alias_confirmation(ctx, mail, member, number)
        return
    pending = open_pending(ctx, mail, number, "profile")
    if pending is None or pending.member_id != member.id:
        _reply(ctx, mail, member, "confirmation_sans_objet", {})
        return
    answer = confirmation_of(mail.text or mail.new_text)  # the whole body: a PS under the signature counts
    if answer is None:
        _reply(ctx, mail, member, "confirmation_incomprise", {"action": ACTION_WORDS["profile"]},
               token=Token(SCOPE_VERIFY, pending.id, ROLE_MEMBER))
        return
    values, acceptance = pending_values(pending)
    if answer is False:
        close_pending(ctx, pending, "cancelled")
        record_event(ctx.session, None, "profile-change-cancelled", f"membre n° {member.id}", ctx.now,
                     actor=mail.from_address)
        _reply(ctx, mail, member, "confirmation_annulee", {"action": ACTION_WORDS["profile"]})
        return
    close_pending(ctx, pending, "applied")
    changes = apply_values(member, values)
    accepted_now = acceptance is not None and member.conditions_version != ctx.settings.conditions_version
    if accepted_now:
        # The evidence is the mail that wrote the acceptance; this answer proved it came from the member.
        _record_acceptance(ctx, member, message_id=pending.message_id, line=acceptance or "",
                           raw_sha256=pending.raw_sha256)
    _changed(ctx, mail, member, changes, confirmed=True)
    if set(values) == {ANNOUNCEMENTS} and not accepted_now:  # "plus d'annonces" / "annonces", now confirmed
        _reply(ctx, mail, member, "annonces", {"on": bool(member.accepts_announcements), "already": not changes})
        return
    _reply(ctx, mail, member, "profil", {"changes": changes, "accepted_now": accepted_now, "email_not_changed": ""})


def _ask_change_confirmation(ctx: WorkflowContext, mail: InboundMail, raw_sha256: str, member: Member,
                             values: dict[str, str], acceptance: str | None, wanted: list[dict[str, str]]) -> None:
    pending = new_pending(ctx, kind="profile", email=(member.email or "").lower(), member_id=member.id,
                          values=values, acceptance=acceptance, mail=mail, raw_sha256=raw_sha256)
    record_event(ctx.session, None, "profile-change-asked",
                 f"membre n° {member.id} : confirmation demandée à l'adresse enregistrée", ctx.now,
                 actor=mail.from_address)
    _reply(ctx, mail, member, "profil_confirmation", {"wanted": wanted, "acceptance": acceptance is not None,
                                                       "days": PENDING_DAYS},
           token=Token(SCOPE_VERIFY, pending.id, ROLE_MEMBER))


def _record_acceptance(ctx: WorkflowContext, member: Member, *, message_id: str, line: str, raw_sha256: str) -> None:
    """A member added by the operator accepts the conditions by mail: the same evidence as a registration."""
    member.conditions_version = ctx.settings.conditions_version
    ctx.session.add(Acceptance(member_id=member.id, conditions_version=ctx.settings.conditions_version,
                               accepted_at=ctx.now, message_id=message_id, line=line, raw_sha256=raw_sha256))


def _changed(ctx: WorkflowContext, mail: InboundMail, member: Member, changes: list[str], *,
             confirmed: bool = False) -> None:
    if not changes:
        return
    member.updated_at = ctx.now
    index_member(ctx.session, member)
    how = " (confirmé depuis l'adresse enregistrée)" if confirmed else ""
    record_event(ctx.session, None, "profile-changed", f"membre n° {member.id} : {', '.join(changes)}{how}",
                 ctx.now, actor=mail.from_address)


# --- ending and erasing --------------------------------------------------------------------------------------------
def end_membership(ctx: WorkflowContext, mail: InboundMail, member: Member) -> None:
    """Confirmed: open requests are withdrawn, the member leaves, and Aideur learns why (the words of the mail
    that asked, kept aside until this confirmation)."""
    open_refs = [t.ref for t in open_tickets_of(ctx.session, member.id)]
    for ticket in open_tickets_of(ctx.session, member.id):
        withdraw(ctx, ticket, member, "Adhésion terminée à la demande du membre.")
    member.status, member.ended_at = "ended", ctx.now
    record_event(ctx.session, None, "member-ended", f"membre n° {member.id} : adhésion terminée", ctx.now,
                 actor=mail.from_address)
    context: dict[str, object] = {"club_name": ctx.settings.club_name, "first_name": member.first_name,
                                  "name": member.display_name, "address": member.email,
                                  "reason": _resignation_reason(ctx, member), "open_refs": open_refs}
    _reply(ctx, mail, member, "adhesion_terminee", {}, token=ctx.signer.address_token(member.email or ""))
    from mailbot.workflows import counterparts  # it imports what imports this module

    notify_aideurs(ctx, None, "notification_fin_adhesion", context, key=f"ended:{mail.message_id}",
                   about=member.email or "", counterpart=counterparts.for_member(ctx, member))  # a word of goodbye


def erase(ctx: WorkflowContext, mail: InboundMail, member: Member) -> None:
    """Erase the person (RGPD art. 17): their tickets close quietly, helpers are told, every stored text is
    scrubbed. The last two mails (to them, to Aideur) are blanked in the outbox as soon as they are sent."""
    context: dict[str, object] = {"club_name": ctx.settings.club_name, "first_name": member.first_name,
                                  "name": member.display_name, "address": member.email, "number": member.id}
    address = member.email or ""
    context["open_refs"] = [t.ref for t in open_tickets_of(ctx.session, member.id)]
    for ticket in open_tickets_of(ctx.session, member.id):
        move(ticket, Move.WITHDRAW, ctx.now)
        tell_helpers_need_is_over(ctx, ticket)
    ctx.send(Outgoing(template="donnees_effacees", to=address, context=context,
                      idempotency_key=f"erased:{mail.message_id}", token=ctx.signer.address_token(address),
                      in_reply_to=f"<{mail.message_id}>", scrub_after_send=True, rate_limited=False))
    notify_aideurs(ctx, None, "notification_effacement", context, key=f"erased:{mail.message_id}",
                   scrub_after_send=True)
    erase_member(ctx.session, address, now=ctx.now, also_purge=[mail.message_id])  # this very mail, too


def send_export(ctx: WorkflowContext, mail: InboundMail, address: str, *, first_name: str = "") -> None:
    """Everything held about the address (members.export_address), as a readable mail with the JSON attached, to
    that address only: the caller has checked that the request was confirmed from it. The outbox keeps no copy
    once it is sent (the attachment holds all the person's data)."""
    held = export_address(ctx.session, address)
    data = json.dumps(held, ensure_ascii=False, indent=2).encode("utf-8")
    record_event(ctx.session, None, "data-exported", "copie des données envoyée à l'adresse enregistrée", ctx.now,
                 actor=mail.from_address)
    ctx.send(Outgoing(
        template="donnees_export", to=address,
        context={"club_name": ctx.settings.club_name, "first_name": first_name, "file": EXPORT_FILE,
                 "member": held.get("status") not in (None, "non-membre"),
                 "former_member": held.get("status") == "ended",
                 "profile": [line for line in form_lines(_export_values(held), with_acceptance=False)],
                 "tickets": len(held.get("tickets") or []), "received": len(held.get("mails_received") or []),
                 "sent": len(held.get("mails_sent") or []), "acceptances": len(held.get("acceptances") or []),
                 "asked": len(held.get("confirmations_asked") or [])},
        idempotency_key=f"export:{mail.message_id}", token=ctx.signer.address_token(address),
        in_reply_to=f"<{mail.message_id}>", scrub_after_send=True,
        files=((EXPORT_FILE, "application/json", data),)))


def _export_values(held: dict[str, object]) -> dict[str, str]:
    values = {key: str(held.get(key) or "") for key in PROFILE_KEYS if key not in YES_NO_KEYS}
    for key in YES_NO_KEYS:
        if key in held:
            values[key] = "oui" if held[key] else "non"
    values["email"] = str(held.get("email") or "")
    return values


# --- mails ---------------------------------------------------------------------------------------------------------
REASON_KIND = "resilier"  # a PendingChange keeping the words of a resignation until it is confirmed


def _keep_reason(ctx: WorkflowContext, mail: InboundMail, member: Member) -> None:
    """The words a resignation was asked with ("je pars à la retraite"), kept aside for Aideur until confirmed."""
    own = own_words(mail)
    reason = "" if is_courtesy_only(own) or (intent_of("", own) is not None and len(own.split()) <= 6) else own
    new_pending(ctx, kind=REASON_KIND, email=(member.email or "").lower(), member_id=member.id,
                values={"reason": excerpt(reason.strip(), 2000)}, acceptance=None, mail=mail, raw_sha256="")


def _resignation_reason(ctx: WorkflowContext, member: Member, *, status: str = "applied") -> str:
    kept = ctx.session.scalars(select(PendingChange).where(
        PendingChange.member_id == member.id, PendingChange.kind == REASON_KIND, PendingChange.status == "pending",
    ).order_by(PendingChange.id.desc())).first()
    if kept is None:
        return ""
    reason = pending_values(kept)[0].get("reason", "")
    close_pending(ctx, kept, status)
    return reason


def ask_confirmation(ctx: WorkflowContext, mail: InboundMail, member: Member, action: str) -> None:
    if action == "resilier":
        _keep_reason(ctx, mail, member)
    member.pending_action, member.pending_since = action, ctx.now
    record_event(ctx.session, None, f"{action}-asked", f"membre n° {member.id}", ctx.now, actor=mail.from_address)
    open_refs = [t.ref for t in open_tickets_of(ctx.session, member.id)]
    _reply(ctx, mail, member, "confirmation_demandee", {"action": ACTION_WORDS[action], "kind": action,
                                                        "open_refs": open_refs, "days": PENDING_DAYS},
           token=Token(SCOPE_CONFIRM, member.id, ROLE_MEMBER))


def _reply(ctx: WorkflowContext, mail: InboundMail, member: Member, template: str, extra: dict[str, object], *,
           token: Token | None = None) -> None:
    context = {"club_name": ctx.settings.club_name, "first_name": member.first_name,
               "profile": profile_lines(member), "address": member.email} | extra
    ctx.send(Outgoing(template=template, to=member.email or mail.from_address, context=context,
                      idempotency_key=f"{template}:{mail.message_id}",
                      token=token or Token(SCOPE_PROFILE, member.id, ROLE_MEMBER),
                      in_reply_to=f"<{mail.message_id}>"))
