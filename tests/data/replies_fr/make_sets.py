"""Write the two French reply sets: `heldout.json` (measured, never tuned on) and `tuning.json` (tuned on).

    python tests/data/replies_fr/make_sets.py

Each case is laid out the way one client lays out a reply (Thunderbird, Outlook desktop and web, Gmail web and
mobile, Apple Mail, iPhone, Android/Samsung), in one layout (above the quote, below it, interleaved), and labelled
by hand with the author's own words (`expected`: quotes and attributions removed, "-- " signatures and "Envoyé de
mon…" lines removed, greeting and sign-off kept). The two sets share no conversation and no attribution wording.
Deterministic: rerunning rewrites the same files.
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (quoted mail paragraphs, the answer to each paragraph or None, a top/bottom answer)
HELDOUT_CONVERSATIONS = [
    (["Bonjour Jean,\nPouvez-vous nous dire si le rendez-vous de jeudi tient toujours ?",
      "Nous aurions besoin du devis signé avant la réunion.",
      "Merci de nous confirmer l'adresse exacte du chantier."],
     ["Oui, jeudi 14 h tient toujours.", "Je vous envoie le devis signé demain matin.", None],
     "Oui, le rendez-vous de jeudi tient toujours. Je vous envoie le devis signé demain."),
    (["Madame,\nVotre demande concerne-t-elle la comptabilité ou la paie ?",
      "Avez-vous déjà un expert-comptable ?",
      "Combien de salariés compte votre entreprise ?"],
     ["Les deux, surtout la paie.", "Non, plus depuis janvier.", "Trois salariés et un apprenti."],
     "C'est surtout la paie : trois salariés, et plus d'expert-comptable depuis janvier."),
    (["Bonjour,\nLe membre qui pourrait vous aider est disponible la semaine prochaine.",
      "Préférez-vous un appel ou une visite ?",
      "Quel créneau vous conviendrait le mieux ?"],
     [None, "Une visite, si possible.", "Le mardi après-midi, après 15 h."],
     "Une visite le mardi après 15 h me conviendrait très bien."),
    (["Cher membre,\nNous avons bien reçu votre message concernant le site internet.",
      "Souhaitez-vous une refonte complète ou une simple mise à jour ?"],
     ["Merci pour votre retour rapide.", "Une mise à jour suffira : les textes et les photos."],
     "Une simple mise à jour suffira, merci."),
    (["Bonjour Sophie,\nAvez-vous pu joindre l'assureur au sujet du sinistre ?",
      "Si non, un membre courtier propose de vous rappeler.",
      "Dites-nous quand il peut vous joindre."],
     ["Pas encore, leur ligne est toujours occupée.", "Avec plaisir, c'est très gentil.",
      "Demain entre 9 h et 11 h au 06 12 34 56 78."],
     "Je n'ai pas réussi à joindre l'assureur. Le courtier peut m'appeler demain matin."),
    (["Monsieur Durand,\nLe devis de M. Petit s'élève à 1 200 € HT.",
      "Le tarif club est de 950 € HT, la première rencontre est gratuite.",
      "Souhaitez-vous que nous vous mettions en relation ?"],
     ["C'est bien noté.", None, "Oui, je suis d'accord pour la mise en relation."],
     "Oui, je suis d'accord pour être mis en relation avec M. Petit."),
    (["Bonjour,\nPour la formation Excel, il reste deux places le 12 mars.",
      "Faut-il vous en réserver une ?"],
     ["Parfait, le 12 mars me va.", "Oui, une place pour moi et une pour ma collègue Anne si possible."],
     "Oui, merci de réserver une place pour moi le 12 mars."),
    (["Bonjour Karim,\nVotre problème de facturation est-il réglé ?",
      "Le client a-t-il fini par payer ?",
      "Avez-vous besoin de l'aide de notre juriste ?"],
     ["Pas complètement.", "Il a payé la moitié seulement, le 2 février.",
      "Oui, j'aimerais un conseil avant d'envoyer une mise en demeure."],
     "Pas complètement : le client n'a payé que la moitié. Un conseil du juriste serait le bienvenu."),
]
TUNING_CONVERSATIONS = [
    (["Bonjour Paul,\nLe traiteur a-t-il confirmé le menu ?", "Combien de couverts faut-il prévoir ?"],
     ["Oui, hier soir.", "Quarante-deux couverts."], "Le traiteur a confirmé, prévoir 42 couverts."),
    (["Bonjour,\nVotre imprimante fonctionne-t-elle à nouveau ?", "Le technicien est-il passé ?",
      "Avez-vous encore besoin d'aide ?"],
     ["Non, toujours en panne.", None, "Oui, s'il vous plaît."], "Toujours en panne, j'ai encore besoin d'aide."),
    (["Madame Leroy,\nNous organisons un déjeuner des membres le 5 avril.", "Serez-vous des nôtres ?"],
     [None, "Avec joie, je viendrai accompagnée."], "Je viendrai avec plaisir le 5 avril."),
    (["Bonjour Luc,\nLe membre graphiste peut vous proposer trois maquettes.", "Quel est votre budget ?"],
     ["Très bonne nouvelle.", "Environ 800 €."], "Mon budget est d'environ 800 €, merci."),
]

# Who wrote the quoted mail, and when, in each client's words.
HELDOUT_CLIENTS = {
    "thunderbird": lambda: ("Le 03/12/2026 à 14:05, Club Aide a écrit :", ">"),
    "thunderbird-long": lambda: ("Le 03/12/2026 à 14:05, Club Aide <aide+ab12cd@club-aide.fr> a écrit :", ">"),
    "gmail-web": lambda: ("Le mer. 3 déc. 2026 à 14:05, Club Aide <aide+ab12cd@club-aide.fr> a écrit :", ">"),
    "gmail-web-wrapped": lambda: ("Le mer. 3 déc. 2026 à 14:05, Club Aide <\naide+ab12cd@club-aide.fr> a écrit :", ">"),
    "gmail-mobile": lambda: ("Le mer. 3 déc. 2026, 14:05, Club Aide <aide+ab12cd@club-aide.fr> a\nécrit :", ">"),
    "apple-mail": lambda: ("> Le 3 déc. 2026 à 14:05, Club Aide <aide+ab12cd@club-aide.fr> a écrit :\n>", ">"),
    "iphone": lambda: ("> Le 3 déc. 2026 à 14:05, Club Aide <aide+ab12cd@club-aide.fr> a écrit :\n>\n", ">"),
    "outlook-desktop": lambda: (("-----Message d'origine-----\nDe : Club Aide <aide+ab12cd@club-aide.fr>\n"
                                "Envoyé : mercredi 3 décembre 2026 14:05\nÀ : Jean Martin <jean@exemple.fr>\n"
                                "Objet : [CA-2026-0042] Votre demande"), ">"),
    "outlook-web": lambda: (("________________________________\nDe : Club Aide <aide+ab12cd@club-aide.fr>\n"
                            "Envoyé : mercredi 3 décembre 2026 14:05\nÀ : jean@exemple.fr\n"
                            "Objet : [CA-2026-0042] Votre demande"), ">"),
    "android-samsung": lambda: (("-------- Message d'origine --------\nDe : Club Aide <aide+ab12cd@club-aide.fr>\n"
                                "Date : 03/12/2026 14:05 (GMT+01:00)\nÀ : jean@exemple.fr\n"
                                "Objet : [CA-2026-0042] Votre demande"), ">"),
    "gmail-wrote-no-colon": lambda: ("Le mer. 3 déc. 2026 à 14:05, Club Aide a écrit", ">"),
    "thunderbird-en": lambda: ("On 12/3/26 2:05 PM, Club Aide wrote:", ">"),
}
TUNING_CLIENTS = {
    "thunderbird": lambda: ("Le 21/01/2027 à 09:12, Aideur du Club a écrit :", ">"),
    "gmail-web": lambda: ("Le jeu. 21 janv. 2027 à 09:12, Aideur <aideur@club-aide.fr> a écrit :", ">"),
    "outlook-desktop": lambda: (("De : Aideur <aideur@club-aide.fr>\nEnvoyé : jeudi 21 janvier 2027 09:12\n"
                                "À : Paul\nObjet : RE: Repas"), ">"),
    "apple-mail": lambda: ("> Le 21 janv. 2027 à 09:12, Aideur <aideur@club-aide.fr> a écrit :\n>", ">"),
    "gmail-en": lambda: ("On Thu, Jan 21, 2027 at 9:12 AM Aideur <aideur@club-aide.fr> wrote:", ">"),
}

GREETINGS = ["Bonjour,", "Bonjour Madame,", "Bonsoir,", "Bonjour à tous,"]
SIGN_OFFS = [("Cordialement,\nJean Martin", ""), ("Bien à vous,\nSophie", ""), ("Merci,\nKarim", ""),
             ("Bonne journée,\nAnne", "Envoyé de mon iPhone"), ("Jean", "-- \nJean Martin\nPlomberie Martin\n06 11 22 33 44")]


def quote(paragraphs: list[str], mark: str) -> str:
    lines = []
    for k, paragraph in enumerate(paragraphs):
        if k:
            lines.append(mark)
        lines += [f"{mark} {line}" for line in paragraph.split("\n")]
    return "\n".join(lines)


def build(conversations: list, clients: dict, layouts: list[str]) -> list[dict]:
    cases = []
    names = list(clients)
    n = 0
    for layout in layouts:
        for _c, (paras, answers, short) in enumerate(conversations):
            client = names[n % len(names)]
            greeting = GREETINGS[n % len(GREETINGS)]
            sign_off, sig = SIGN_OFFS[n % len(SIGN_OFFS)]
            attribution, mark = clients[client]()
            n += 1
            tail = f"\n\n{sig}" if sig else ""
            if layout == "above":
                own = f"{greeting}\n\n{short}\n\n{sign_off}"
                text = f"{own}{tail}\n\n{attribution}\n{quote(paras, mark)}\n"
                expected = own
            elif layout == "below":
                own = f"{short}\n\n{sign_off}"
                text = f"{attribution}\n{quote(paras, mark)}\n\n{own}{tail}\n"
                expected = own
            else:
                parts = [greeting, "", attribution]
                kept = [greeting]
                for para, answer in zip(paras, answers, strict=False):
                    parts.append(quote([para], mark))
                    if answer:
                        # Half the writers leave no blank line around their answer.
                        parts += ["", answer, ""] if n % 2 else [answer]
                        kept.append(answer)
                kept.append(sign_off)
                parts += ["", sign_off]
                if sig:
                    parts += ["", sig]
                text = "\n".join(parts) + "\n"
                expected = "\n\n".join(kept)
            cases.append({"id": f"{layout}-{n}-{client}", "client": client, "layout": layout,
                          "text": text, "expected": expected})
    return cases


def main() -> None:
    heldout = build(HELDOUT_CONVERSATIONS, HELDOUT_CLIENTS, ["above", "below", "interleaved", "interleaved"] * 2)
    tuning = build(TUNING_CONVERSATIONS, TUNING_CLIENTS, ["above", "below", "interleaved"] * 2)
    for name, cases in (("heldout.json", heldout), ("tuning.json", tuning)):
        (HERE / name).write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(name, len(cases))


if __name__ == "__main__":
    main()
