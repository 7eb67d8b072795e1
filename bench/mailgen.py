"""Deterministic generator of realistic French request mails, as raw bytes, for the benchmarks.

    from bench.mailgen import generate, member_addresses
    for raw in generate(1000, seed=1, huge=0):
        ...

Every mail is a new request from one of the member addresses to the club: a 2-20 KB French body in a mixed
charset (utf-8, iso-8859-1, iso-8859-15, windows-1252) and transfer encoding (quoted-printable or base64), about a
third with an HTML alternative, about 10 % with a PDF- or image-like binary attachment of 20-300 KB. `huge` adds
mails carrying one 10 MB attachment, spread evenly through the batch. The same (n, seed, huge) always gives the same
bytes; Message-IDs are unique per (seed, index).
"""
from __future__ import annotations

import base64
import html
import quopri
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr

CLUB_ADDRESS = "aide@club.test"
MEMBER_DOMAIN = "membres.test"
HUGE_SIZE = 10 * 1024 * 1024
CHARSETS = ("utf-8", "iso-8859-1", "iso-8859-15", "windows-1252")
ENCODINGS = ("quoted-printable", "base64")
START = datetime(2026, 3, 2, 8, 30, tzinfo=timezone(timedelta(hours=1)))

FIRST_NAMES = ("Amélie", "Benoît", "Céline", "Damien", "Élodie", "François", "Gaëlle", "Hélène", "Jérôme", "Léa",
               "Loïc", "Maëlle", "Noël", "Océane", "Pierre", "Renée", "Sébastien", "Thérèse", "Valérie", "Zoé")
LAST_NAMES = ("Bérard", "Chevalier", "Dupré", "Faure", "Gauthier", "Lefèvre", "Mercier", "Ménard", "Pélissier",
              "Rousseau", "Thébault", "Vasseur")
COMPANIES = ("Atelier Dupré", "Cabinet Mercier", "Boulangerie Lefèvre", "SARL Bâtir Ensemble", "Studio Océane",
             "Garage Thébault", "Épicerie du Marché", "Conseil & Comptes")

SUBJECTS = {
    "comptabilité": ("Question sur la TVA intracommunautaire", "Clôture de l'exercice : écritures à passer",
                     "Relance d'un client qui ne paie pas", "Aide pour le bilan prévisionnel",
                     "Déclaration de résultats en retard"),
    "droit": ("Litige avec un fournisseur", "Rupture conventionnelle d'un salarié", "Bail commercial à renouveler",
              "Conditions générales de vente à revoir", "Mise en demeure reçue hier"),
    "bâtiment": ("Fissures dans l'atelier", "Devis de rénovation énergétique", "Infiltration d'eau par la toiture",
                 "Mise aux normes électriques du local", "Accessibilité PMR de la boutique"),
    "informatique": ("Messagerie piratée, que faire ?", "Sauvegarde des données clients", "Site web très lent",
                     "Choix d'un logiciel de caisse", "Conformité RGPD de notre fichier clients"),
}

SENTENCES = {
    "comptabilité": (
        "Notre expert-comptable a pris sa retraite et je ne sais plus comment régulariser la TVA du trimestre.",
        "Un client nous doit 4 300 € depuis le mois de février et ne répond plus à nos relances.",
        "Je dois préparer un prévisionnel pour la banque avant la fin du mois, et je n'ai jamais fait cet exercice.",
        "Les écritures de clôture me paraissent incohérentes : le report à nouveau ne correspond pas au bilan.",
        "Faut-il amortir le véhicule utilitaire sur cinq ans ou peut-on le passer en charges directement ?",
        "L'administration fiscale nous réclame une pénalité de retard que nous estimons injustifiée.",
        "Nous hésitons entre le régime réel simplifié et le régime normal pour l'année prochaine.",
    ),
    "droit": (
        "Notre fournisseur de matières premières a livré une marchandise non conforme et refuse l'avoir.",
        "Un salarié souhaite une rupture conventionnelle ; je voudrais être sûr de respecter la procédure.",
        "Le propriétaire du local veut augmenter le loyer de 18 % au renouvellement du bail commercial.",
        "Nos conditions générales de vente datent de 2015 et ne mentionnent ni le RGPD ni la médiation.",
        "J'ai reçu une mise en demeure d'un concurrent qui prétend que notre logo ressemble trop au sien.",
        "Le contrat de sous-traitance ne prévoit aucune clause de pénalité : est-ce un problème ?",
        "Peut-on refuser un congé demandé pendant la période la plus chargée de l'année ?",
    ),
    "bâtiment": (
        "Des fissures sont apparues sur le mur porteur de l'atelier depuis les travaux du voisin.",
        "Nous avons reçu trois devis de rénovation énergétique dont les montants vont du simple au double.",
        "L'eau s'infiltre par la toiture à chaque orage, et l'assurance tarde à envoyer un expert.",
        "Le bureau de contrôle exige une mise aux normes du tableau électrique avant la réouverture.",
        "La boutique doit devenir accessible aux personnes à mobilité réduite : rampe, porte, comptoir.",
        "Le chauffagiste propose une pompe à chaleur, mais je ne sais pas si les aides sont cumulables.",
        "Le maître d'œuvre a disparu en plein chantier et les entreprises réclament leur paiement.",
    ),
    "informatique": (
        "Depuis lundi, notre messagerie envoie des courriels frauduleux à tous nos clients.",
        "Nous n'avons aucune sauvegarde des données clients en dehors de l'ordinateur du bureau.",
        "Le site web met plus de dix secondes à s'afficher et nous perdons des commandes.",
        "Notre logiciel de caisse n'est plus mis à jour ; il faut en choisir un nouveau, certifié.",
        "Un client demande l'effacement de ses données : comment prouver que c'est fait ?",
        "Le poste de la comptable affiche une demande de rançon depuis ce matin.",
        "Nous voudrions partager l'agenda de l'équipe sans dépendre d'un service payant.",
    ),
}

COMMON = (
    "Pourriez-vous me mettre en relation avec un membre du club qui connaît bien ce sujet ?",
    "Je reste disponible par téléphone toute la semaine, de préférence le matin.",
    "Merci d'avance pour votre aide, c'est assez urgent pour nous.",
    "Je joins les éléments dont je dispose ; n'hésitez pas à me demander des précisions.",
    "Nous sommes une petite entreprise de six salariés et n'avons pas de service juridique.",
    "La situation dure depuis plusieurs semaines et commence à peser sur la trésorerie.",
    "Si un premier rendez-vous gratuit est possible, cela nous arrangerait beaucoup.",
)

GREETINGS = ("Bonjour,", "Bonjour à toute l'équipe,", "Madame, Monsieur,", "Bonjour Aideur,")
CLOSINGS = ("Cordialement,", "Bien à vous,", "Merci et bonne journée,", "Avec mes remerciements,")


@dataclass(frozen=True)
class Member:
    address: str
    first_name: str
    last_name: str
    company: str


def members(count: int = 50) -> list[Member]:
    """The member addresses mails come from: m001@membres.test ... (also used to fill the member register)."""
    return [Member(address=f"m{i:03d}@{MEMBER_DOMAIN}",
                   first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                   last_name=LAST_NAMES[i % len(LAST_NAMES)],
                   company=COMPANIES[i % len(COMPANIES)])
            for i in range(1, count + 1)]


def member_addresses(count: int = 50) -> list[str]:
    return [member.address for member in members(count)]


# --- text -------------------------------------------------------------------------------------------------------


def body_text(rng: random.Random, topic: str, member: Member, target_size: int) -> str:
    """A French request of about `target_size` characters: greeting, paragraphs, closing, signature."""
    paragraphs: list[str] = []
    size = 0
    while size < target_size:
        count = rng.randint(2, 5)
        pool = SENTENCES[topic] + COMMON
        paragraph = " ".join(rng.choice(pool) for _ in range(count))
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    signature = f"{member.first_name} {member.last_name}\n{member.company}\n06 12 34 {rng.randint(10, 99)} 00"
    return "\n\n".join([rng.choice(GREETINGS), *paragraphs, rng.choice(CLOSINGS), signature]) + "\n"


def fit_charset(text: str, charset: str) -> str:
    """Latin-1 has neither € nor œ: write them the way a Latin-1 mail client would."""
    if charset == "iso-8859-1":
        return text.replace("€", "EUR").replace("œ", "oe")
    return text


def as_html(text: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>\n" for p in text.split("\n\n"))
    return f"<html><head><meta charset=\"utf-8\"></head><body>\n{paragraphs}</body></html>\n"


# --- MIME parts -------------------------------------------------------------------------------------------------


def text_part(text: str, subtype: str, charset: str, encoding: str) -> Message:
    """A text/* part in `charset`, transfer-encoded by hand so the benchmark controls both choices."""
    part = MIMENonMultipart("text", subtype, charset=charset)
    data = text.encode(charset)
    if encoding == "base64":
        payload = base64.encodebytes(data).decode("ascii")
    else:
        payload = quopri.encodestring(data).decode("ascii")
    del part["MIME-Version"]  # only the top-level header block carries it
    part.set_payload(payload)
    part["Content-Transfer-Encoding"] = encoding
    return part


def binary_part(rng: random.Random, size: int, index: int) -> Message:
    """A PDF-like or JPEG-like attachment: the right magic bytes, then random data."""
    if rng.random() < 0.5:
        maintype, subtype, name, magic = "application", "pdf", f"document-{index}.pdf", b"%PDF-1.4\n"
    else:
        maintype, subtype, name, magic = "image", "jpeg", f"photo-{index}.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    part = MIMEBase(maintype, subtype, name=name)
    del part["MIME-Version"]
    part.set_payload(base64.encodebytes(magic + rng.randbytes(size - len(magic))).decode("ascii"))
    part["Content-Transfer-Encoding"] = "base64"
    part.add_header("Content-Disposition", "attachment", filename=name)
    return part


# --- whole mails ------------------------------------------------------------------------------------------------


def make_mail(rng: random.Random, index: int, seed: int, sender: Member, *, attachment_size: int = 0) -> bytes:
    topic = rng.choice(sorted(SUBJECTS))
    charset = rng.choice(CHARSETS)
    encoding = rng.choice(ENCODINGS)
    text = fit_charset(body_text(rng, topic, sender, round(rng.triangular(2_000, 20_000, 5_000))), charset)
    body: Message = text_part(text, "plain", charset, encoding)
    if rng.random() < 0.3:
        alternative = MIMEMultipart("alternative", boundary=f"=_alt_{seed}_{index}")
        del alternative["MIME-Version"]
        alternative.attach(body)
        alternative.attach(text_part(as_html(text), "html", "utf-8", rng.choice(ENCODINGS)))
        body = alternative
    if attachment_size:
        mixed = MIMEMultipart("mixed", boundary=f"=_mixed_{seed}_{index}")
        del mixed["MIME-Version"]
        mixed.attach(body)
        mixed.attach(binary_part(rng, attachment_size, index))
        body = mixed
    subject = fit_charset(rng.choice(SUBJECTS[topic]), charset)
    body["From"] = formataddr((f"{sender.first_name} {sender.last_name}", sender.address), charset)
    body["To"] = CLUB_ADDRESS
    body["Subject"] = Header(f"{subject} (n° {index})", charset)
    body["Date"] = format_datetime(START + timedelta(minutes=index))
    body["Message-ID"] = f"<bench-{seed}-{index}@{MEMBER_DOMAIN}>"
    body["MIME-Version"] = "1.0"
    return body.as_bytes()


def attachment_size(rng: random.Random) -> int:
    """0 (no attachment) for ~90 % of mails, else 20-300 KB."""
    return rng.randint(20_000, 300_000) if rng.random() < 0.10 else 0


def generate(n: int, *, seed: int = 1, huge: int = 0, senders: list[Member] | None = None) -> Iterator[bytes]:
    """`n` ordinary mails plus `huge` mails with a 10 MB attachment, spread evenly: n + huge mails in all."""
    rng = random.Random(seed)
    senders = senders or members()
    total = n + huge
    huge_at = {round((k + 0.5) * total / huge) for k in range(huge)} if huge else set()
    for index in range(total):
        sender = senders[index % len(senders)]
        size = HUGE_SIZE if index in huge_at else attachment_size(rng)
        yield make_mail(rng, index, seed, sender, attachment_size=size)


def small_mails(count: int, *, seed: int = 99) -> list[bytes]:
    """A few small mails without attachment (the copies the raw baseline sends over SMTP)."""
    rng = random.Random(seed)
    senders = members()
    return [make_mail(rng, index, seed, senders[index % len(senders)]) for index in range(count)]


if __name__ == "__main__":  # a quick look: python bench/mailgen.py > sample.eml
    import sys

    sys.stdout.buffer.write(next(generate(1, seed=int(sys.argv[1]) if len(sys.argv) > 1 else 1)))
