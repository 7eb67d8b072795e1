"""Write tests/data/matching_requests_12.json: 20 requests written for issue 12, judged by rule.

    .venv/bin/python tests/data/make_matching_requests_12.py

Each request is what a member writes, with the generic words ("projet", "travail", "page", "besoin"…), counts
with units ("6 pages", "3 jours", "200 €") and ambiguous words ("réseau") that made the matching propose the
wrong people. Who is right is decided by a rule on the members' skills (the trade that would really help), written
before measuring, and the lists are written out so that the test reads plain data.
"""
from __future__ import annotations

import csv
import json
import re
import unicodedata
from pathlib import Path

DATA = Path(__file__).resolve().parent
OUT = DATA / "matching_requests_12.json"

# (name, text, what it tests, rule on the folded skills of the members who would really help)
REQUESTS = [
    ('reseau-pro',
     ("Je lance mon activité de conseil et j'aimerais développer mon réseau professionnel : rencontrer"
      " des dirigeants, des prescripteurs, trouver des partenaires. Qui a l'habitude du réseautage ?"),
     'réseau au sens de relations : pas les réseaux informatiques',
     'prospection|developpement commercial|animation de reseau de vente|vente b2b|grands comptes'),
    ('reseau-info',
     'Le réseau de notre bureau tombe tous les jours et le wifi coupe : 8 postes concernés.',
     "réseau informatique ; « 8 postes » n'est pas une compétence",
     ('administration reseau|reseaux informatiques|wifi|maintenance informatique|depannage '
      'informatique|parc informatique|installation de postes')),
    ('reseaux-sociaux',
     ("Notre page Facebook ne décolle pas : 3 publications par semaine et aucune réaction. Qui s'y "
      'connaît en réseaux sociaux ?'),
     'réseaux sociaux, « page » générique',
     'reseaux sociaux|community management|marketing digital'),
    ('plaquette',
     'Notre plaquette de 6 pages doit être refaite avec une vraie charte graphique avant le salon.',
     '« 6 pages » : une quantité, pas la mise en page',
     'charte graphique|graphisme|graphiste|mise en page|pao|supports imprimes|identite visuelle'),
    ('escaliers',
     'Travail urgent : il faut refaire 3 escaliers en bois et un parquet dans nos bureaux.',
     '« travail » générique (pas le droit du travail)',
     'menuiserie|menuisier|escaliers|parquets|travail du bois'),
    ('appli',
     "Projet d'application mobile pour nos clients : qui pourrait chiffrer le développement ?",
     '« projet » générique (pas la gestion de projet)',
     'applications mobiles|developpement logiciel|developpeur(?! web)|programmation'),
    ('chauffage',
     "Le chauffage de l'atelier est en panne depuis 2 jours, 12 degrés ce matin : il nous faut un chauffagiste.",
     '« 2 jours », « 12 degrés »',
     'chauffage|chauffagiste|chaudieres|pompes a chaleur|plomb|climatisation|chauffe-eau'),
    ('tva',
     'Une facture de 200 euros avec une TVA mal calculée : comment la corriger dans ma déclaration ?',
     '« 200 euros »',
     '\\btva\\b|comptab|fiscalite'),
    ('inaptitude',
     "Un salarié est absent depuis 3 mois et son médecin parle d'inaptitude : quelle procédure suivre ?",
     '« 3 mois »',
     'inaptitude|droit du travail|droit social|medecin du travail|licenciements|prud'),
    ('traduction',
     "J'ai 40 pages de contrat à traduire en allemand pour un client de Stuttgart.",
     '« 40 pages » ; la traduction, pas la mise en page',
     'traduction|traductrice|interpretariat'),
    ('recrutement',
     'Nous devons recruter 2 commerciaux en CDI dans les 6 semaines : qui connaît bien le recrutement ?',
     '« 6 semaines »',
     "recrutement|ressources humaines|chasse de tetes|entretiens d'embauche"),
    ('incendie',
     ("Visite de la commission de sécurité dans 15 jours : nos extincteurs et le plan d'évacuation "
      'sont-ils aux normes ?'),
     'sécurité incendie, pas informatique',
     'securite incendie|extincteurs|evacuation|securite des erp|prevention des risques'),
    ('ransomware',
     "Un ransomware a chiffré 2 serveurs cette nuit : besoin d'aide en sécurité informatique, vite.",
     'sécurité informatique, « 2 serveurs »',
     'cybersecurite|securite informatique|ransomware|reponse a incident|securite des reseaux'),
    ('conteneur',
     'Premier conteneur à expédier vers le Canada, 20 tonnes de marchandises : douane et incoterms, je suis perdu.',
     '« 20 tonnes »',
     'douane|incoterms|commerce international|import-export|\\bexport\\b'),
    ('local',
     'Je cherche un local commercial de 80 m2 à louer pour ouvrir une boutique.',
     '« 80 m2 »',
     'immobilier|locaux commerciaux|location de bureaux|baux commerciaux'),
    ('page-blanche',
     'Notre site internet affiche une page blanche depuis la mise à jour de WordPress.',
     '« page » générique',
     'wordpress|sites? (?:internet|web|vitrines)|developpement web|developpeur web|refonte'),
    ('effacement',
     "Un client demande l'effacement de ses données personnelles sous 30 jours : que dit le RGPD ?",
     '« 30 jours », « client »',
     'rgpd|donnees personnelles|cnil|dpo|protection des donnees'),
    ('rachat',
     "Projet de rachat d'un concurrent pour 150 000 euros : comment monter le dossier de financement ?",
     '« projet », « 150 000 euros »',
     ("financement|credit professionnel|prets|levee de fonds|reprise d'entreprise|transmission "
      "d'entreprise|business plan")),
    ('management',
     "Travail d'équipe difficile : je voudrais une formation au management pour mes 4 chefs d'équipe.",
     '« travail », « 4 chefs »',
     'management|coaching de dirigeants|formateur|(?:^|[,;] *)formation(?:$|[,;])'),
    ('photos',
     'Il nous faut des photos de nos 50 produits pour le catalogue en ligne.',
     '« 50 produits »',
     'photo|photographe|photographie'),
]


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().replace("œ", "oe"))
    return "".join(c for c in text if not unicodedata.combining(c))


def build() -> list[dict[str, object]]:
    with (DATA / "members_300.csv").open(newline="", encoding="utf-8") as handle:
        members = list(csv.DictReader(handle))
    out = []
    for name, text, tests, rule in REQUESTS:
        pattern = re.compile(rule)
        right = sorted(m["email"] for m in members if pattern.search(fold(m["skills"])))
        out.append({"name": name, "text": text, "tests": tests, "rule": rule, "right": right})
    return out


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
