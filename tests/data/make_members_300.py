"""Generate realistic, deterministic member profiles for the matching tests and bench.

    .venv/bin/python tests/data/make_members_300.py            # rewrites tests/data/members_300.csv (seed 300)

`generate_members(n, seed)` is also used by bench/matching.py (10,000 members). Profiles are written the way
members fill the form: a trade and its skills in various wordings (singular/plural, jargon, sentences), a few
hobbies, sometimes particularities (languages, former lives, certifications), with mixed separators, ~10 %
typed without accents, some in capitals.
"""
from __future__ import annotations

import csv
import random
import sys
import unicodedata
from pathlib import Path

SEED = 300
COUNT = 300
OUT = Path(__file__).resolve().parent / "members_300.csv"
HEADER = ["email", "first_name", "last_name", "company", "phone", "skills", "hobbies", "particulars", "visibility"]

FIRST_NAMES = ["Camille", "Julien", "Sophie", "Nicolas", "Claire", "Thomas", "Isabelle", "Antoine", "Nathalie", "Pierre", "Céline", "Laurent", "Aurélie", "Olivier", "Sandrine", "Mathieu", "Valérie", "Sébastien", "Émilie", "Christophe", "Hélène", "François", "Caroline", "Stéphane", "Delphine", "Guillaume", "Anne", "Frédéric", "Marion", "Vincent", "Élodie", "Benoît", "Laure", "Jérôme", "Agnès", "Philippe", "Virginie", "Cédric", "Karine", "Romain", "Lucie", "Arnaud", "Chloé", "Yannick", "Pauline", "Thierry", "Fatima", "Karim", "Samia", "Mehdi", "Nadia", "Youssef", "Léa", "Hugo", "Manon", "Louis", "Inès", "Bernard", "Martine", "Gérard", "Françoise", "Patrick", "Brigitte", "Didier", "Monique", "Éric", "Catherine", "Xavier", "Morgane", "Damien", "Gaëlle", "Loïc", "Solène", "Maël", "Anaïs", "Quentin", "Margaux", "Adrien", "Océane", "Bastien", "Justine"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël", "Meyer", "Lucas", "Meunier", "Jean", "Perez", "Marchand", "Dufour", "Blanchard", "Marie", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Fernandez", "Pierre", "Renard", "Arnaud", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois", "Renaud", "Lemoine", "Picard", "Gaillard", "Philippe", "Leclercq", "Lacroix", "Fabre", "Dupuis", "Olivier", "Rodriguez", "Hubert", "Louis", "Charles", "Guillot", "Rivière", "Guillaume", "Adam", "Rey", "Moulin", "Gonzalez", "Berger", "Lecomte", "Ménard", "Fleury", "Deschamps", "Carpentier", "Julien", "Benoît", "Paris", "Maillard", "Marchal", "Aubry", "Vasseur", "Renault", "Jacquet", "Collet", "Prévost", "Poirier", "Charpentier", "Royer", "Huet", "Baron", "Dupuy", "Pons", "Paul", "Laine", "Carré", "Breton", "Rémy", "Schneider", "Perrot", "Guyot", "Barre", "Marty", "Cousin"]
DOMAINS = ["orange.fr", "free.fr", "gmail.com", "laposte.net", "wanadoo.fr", "sfr.fr", "outlook.fr", "yahoo.fr"]

# (trade, company patterns, skills phrases, weight)
TRADES: list[tuple[str, list[str], list[str], int]] = [
    ("paie", ["Cabinet {n} Social", "{n} Paie Services", "PaieConseil {n}"], [
        "gestion de la paie", "paie", "bulletins de salaire", "établissement des fiches de paie", "DSN",
        "calcul des heures supplémentaires", "charges sociales", "gestionnaire de paie", "paie et administration du personnel",
        "déclarations sociales", "convention collective", "paie multi-conventions", "soldes de tout compte",
        "rémunération et avantages sociaux"], 8),
    ("comptable", ["Cabinet {n}", "{n} Expertise", "{n} & Associés", "Fiduciaire {n}"], [
        "comptabilité", "expert-comptable", "comptabilité générale", "bilans", "tenue de la comptabilité",
        "liasses fiscales", "comptable", "révision comptable", "clôture annuelle des comptes", "TVA",
        "comptabilité analytique", "déclarations de TVA", "fiscalité des PME", "comptabilité des associations"], 12),
    ("droit social", ["{n} Avocats", "Cabinet {n}", "{n} Juris"], [
        "droit du travail", "droit social", "contentieux prud'homal", "prud'hommes", "licenciements",
        "ruptures conventionnelles", "contrats de travail", "avocat en droit social", "conseil aux employeurs",
        "relations avec le CSE", "inaptitude et procédures disciplinaires", "juriste en droit social"], 7),
    ("droit des affaires", ["{n} Avocats", "Cabinet {n}", "SELARL {n}"], [
        "droit des sociétés", "création d'entreprise", "rédaction de statuts", "droit des affaires",
        "baux commerciaux", "contrats commerciaux", "cessions de fonds de commerce", "pactes d'associés",
        "avocat d'affaires", "recouvrement de créances", "procédures collectives", "conditions générales de vente"], 7),
    ("notaire", ["Étude {n}", "Office notarial {n}"], [
        "notaire", "successions", "donations", "droit immobilier", "droit de la famille", "actes de vente",
        "droit patrimonial", "SCI", "régimes matrimoniaux"], 4),
    ("fiscaliste", ["{n} Fiscalité", "Cabinet {n}"], [
        "fiscalité", "fiscalité des entreprises", "impôt sur les sociétés", "contrôles fiscaux", "optimisation fiscale",
        "fiscalité internationale", "TVA intracommunautaire", "fiscalité du dirigeant", "impôt sur le revenu"], 4),
    ("rh", ["{n} RH", "{n} Recrutement", "Talents {n}"], [
        "recrutement", "ressources humaines", "gestion des carrières", "entretiens annuels", "GPEC",
        "recrutement de commerciaux", "chasse de têtes", "onboarding", "formation professionnelle", "plan de formation",
        "DRH à temps partagé", "relations sociales", "marque employeur", "entretiens d'embauche"], 9),
    ("dev web", ["{n} Web", "{n} Digital", "Studio {n}", "{n} Agency"], [
        "création de sites internet", "WordPress", "développement web", "sites web", "PHP", "JavaScript",
        "développeur web", "sites vitrines", "e-commerce", "PrestaShop", "Shopify", "React", "HTML CSS",
        "refonte de site", "hébergement web", "applications web"], 10),
    ("dev logiciel", ["{n} Software", "{n} Informatique", "{n} Tech"], [
        "développement logiciel", "Python", "Java", "bases de données", "SQL", "applications mobiles",
        "architecture logicielle", "programmation", "développeur", "API", "DevOps", "cloud AWS", "C++",
        "intelligence artificielle", "data science", "machine learning"], 8),
    ("infra", ["{n} Informatique", "{n} Systèmes", "{n} IT Services"], [
        "administration réseau", "réseaux informatiques", "maintenance informatique", "dépannage informatique",
        "serveurs", "Windows Server", "Linux", "sauvegardes", "infogérance", "téléphonie IP", "Microsoft 365",
        "installation de postes", "wifi", "virtualisation", "parc informatique"], 8),
    ("cyber", ["{n} Sécurité", "{n} Cyber", "{n} Secure"], [
        "cybersécurité", "sécurité informatique", "tests d'intrusion", "sécurité des réseaux", "pare-feu",
        "réponse à incident", "ransomware", "sensibilisation au phishing", "audit de sécurité", "RSSI",
        "gestion des mots de passe", "ISO 27001"], 4),
    ("rgpd", ["{n} Conformité", "{n} Data Protection"], [
        "RGPD", "protection des données personnelles", "DPO externalisé", "conformité RGPD", "registre des traitements",
        "délégué à la protection des données", "CNIL", "cookies et consentement"], 3),
    ("marketing", ["{n} Communication", "Agence {n}", "{n} Marketing"], [
        "marketing digital", "communication", "réseaux sociaux", "stratégie de marque", "community management",
        "publicité en ligne", "Google Ads", "référencement naturel", "SEO", "newsletters", "relations presse",
        "communication institutionnelle", "marketing", "plan de communication", "emailing"], 10),
    ("graphisme", ["Studio {n}", "{n} Design", "Atelier {n}"], [
        "graphisme", "graphiste", "identité visuelle", "création de logos", "mise en page", "PAO", "illustration",
        "charte graphique", "Photoshop", "InDesign", "design d'emballage", "supports imprimés", "webdesign"], 6),
    ("photo pro", ["{n} Photo", "Studio {n}", "{n} Images"], [
        "photographe professionnel", "photographie", "photo de produits", "reportage photo", "portraits",
        "photo culinaire", "photographie d'architecture", "retouche photo", "shooting", "photos corporate",
        "vidéo", "montage vidéo", "drone"], 5),
    ("commercial", ["{n} Distribution", "{n} Commerce", "{n} Sales"], [
        "vente", "prospection", "négociation commerciale", "développement commercial", "grands comptes",
        "animation de réseau de vente", "techniques de vente", "management commercial", "CRM", "Salesforce",
        "vente B2B", "appels d'offres", "commercial terrain"], 9),
    ("export", ["{n} International", "{n} Export", "{n} Trading"], [
        "export", "commerce international", "import-export", "douane", "incoterms", "logistique internationale",
        "développement à l'international", "sourcing en Asie", "crédit documentaire", "VIE"], 4),
    ("logistique", ["{n} Logistique", "{n} Transports", "Transports {n}"], [
        "logistique", "transport routier", "gestion des stocks", "entrepôt", "supply chain", "déménagements",
        "déménagement d'entreprises", "transport de marchandises", "messagerie", "optimisation des tournées",
        "gestion de flotte", "manutention"], 6),
    ("banque", ["Crédit {n}", "{n} Finance", "{n} Banque"], [
        "banque", "financement des entreprises", "crédit professionnel", "prêts", "crédit-bail", "affacturage",
        "montage de dossiers de financement", "relations bancaires", "levée de fonds", "capital-risque",
        "subventions", "aides publiques", "BPI", "business plan"], 7),
    ("assurance", ["{n} Assurances", "Cabinet {n} Courtage", "{n} Prévoyance"], [
        "assurances", "courtier en assurances", "assurance des professionnels", "responsabilité civile professionnelle",
        "prévoyance", "mutuelle santé", "gestion des sinistres", "assurance-crédit", "multirisque professionnelle",
        "assurance flotte automobile"], 5),
    ("patrimoine", ["{n} Patrimoine", "{n} Gestion Privée"], [
        "gestion de patrimoine", "conseiller en gestion de patrimoine", "placements", "assurance-vie",
        "préparation de la retraite", "épargne salariale", "investissement immobilier", "transmission d'entreprise",
        "défiscalisation"], 4),
    ("immobilier", ["{n} Immobilier", "Agence {n}", "{n} Immo"], [
        "immobilier", "transaction immobilière", "immobilier d'entreprise", "gestion locative", "estimation immobilière",
        "baux commerciaux", "syndic de copropriété", "location de bureaux", "agent immobilier", "locaux commerciaux"], 6),
    ("btp", ["{n} Bâtiment", "{n} Construction", "SARL {n} Rénovation"], [
        "rénovation", "maçonnerie", "gros œuvre", "second œuvre", "conduite de travaux", "bâtiment",
        "aménagement de locaux", "carrelage", "plâtrerie", "isolation", "rénovation énergétique", "charpente"], 7),
    ("plombier", ["{n} Plomberie", "{n} Chauffage", "Ets {n}"], [
        "plomberie", "plombier", "chauffage", "chauffagiste", "sanitaire", "pompes à chaleur", "chaudières",
        "climatisation", "dépannage de fuites", "chauffe-eau", "salles de bains"], 4),
    ("electricien", ["{n} Électricité", "{n} Élec", "Ets {n}"], [
        "électricité", "électricien", "installation électrique", "mise aux normes électriques", "domotique",
        "éclairage", "bornes de recharge", "câblage réseau", "tableaux électriques", "courants faibles"], 4),
    ("menuisier", ["Menuiserie {n}", "Atelier {n}"], [
        "menuiserie", "menuisier", "ébénisterie", "agencement", "parquets", "escaliers", "travail du bois",
        "fabrication de mobilier", "pose de fenêtres"], 3),
    ("architecte", ["{n} Architectes", "Atelier {n} Architecture"], [
        "architecte", "architecture", "permis de construire", "maîtrise d'œuvre", "architecture intérieure",
        "aménagement de bureaux", "accessibilité des ERP", "réhabilitation", "plans"], 4),
    ("paysagiste", ["{n} Paysage", "{n} Jardins"], [
        "paysagiste", "aménagement paysager", "entretien d'espaces verts", "création de jardins", "élagage",
        "arrosage automatique"], 2),
    ("formateur", ["{n} Formation", "{n} Conseil"], [
        "formation", "formateur", "ingénierie pédagogique", "formation de formateurs", "prise de parole en public",
        "management", "coaching de dirigeants", "gestion du stress", "animation d'ateliers", "Qualiopi"], 6),
    ("sante", ["Cabinet {n}", "{n} Santé", "Centre {n}"], [
        "médecin du travail", "santé au travail", "prévention des risques", "ergonomie", "kinésithérapie",
        "psychologue du travail", "risques psychosociaux", "burn-out", "infirmière", "ostéopathie",
        "qualité de vie au travail", "document unique"], 6),
    ("securite", ["{n} Prévention", "{n} Sécurité", "{n} Protection"], [
        "sécurité incendie", "prévention des risques", "formation SST", "sauveteur secouriste du travail",
        "évacuation", "extincteurs", "document unique", "habilitation électrique", "sécurité des ERP",
        "premiers secours"], 4),
    ("restauration", ["Restaurant {n}", "{n} Traiteur", "Chez {n}"], [
        "restauration", "cuisine", "traiteur", "HACCP", "hygiène alimentaire", "gestion de restaurant",
        "cuisinier", "pâtisserie", "cave à vins", "sommellerie", "organisation de banquets"], 5),
    ("evenementiel", ["{n} Events", "{n} Événements"], [
        "événementiel", "organisation d'événements", "séminaires", "salons professionnels", "team building",
        "soirées d'entreprise", "voyages d'affaires", "location de salles"], 3),
    ("traduction", ["{n} Traduction", "{n} Langues"], [
        "traduction", "traductrice", "interprétariat", "traduction juridique", "traduction technique",
        "anglais", "allemand", "espagnol", "italien", "localisation de sites", "cours de langues"], 4),
    ("industrie", ["{n} Industrie", "{n} Mécanique", "{n} Process"], [
        "production industrielle", "lean management", "amélioration continue", "maintenance industrielle",
        "qualité", "ISO 9001", "démarche qualité", "achats industriels", "usinage", "méthodes", "gestion de production",
        "sécurité au travail"], 6),
    ("strategie", ["{n} Conseil", "{n} Partners", "{n} Stratégie"], [
        "stratégie d'entreprise", "conseil en management", "business plan", "reprise d'entreprise",
        "transformation", "gestion de projet", "conduite du changement", "contrôle de gestion", "tableaux de bord",
        "pilotage financier", "trésorerie", "levée de fonds", "direction financière à temps partagé"], 8),
    ("bureautique", ["{n} Services", "{n} Assistance", "Secrétariat {n}"], [
        "secrétariat", "assistante de direction", "Excel", "tableaux croisés dynamiques", "macros Excel",
        "bureautique", "Word", "gestion administrative", "facturation", "relances clients", "saisie comptable",
        "formation bureautique", "PowerPoint"], 6),
    ("agri", ["GAEC {n}", "EARL {n}", "Domaine {n}"], [
        "agriculture", "viticulture", "vin", "œnologie", "vente directe", "circuits courts", "maraîchage",
        "élevage", "agriculture biologique", "PAC"], 3),
    ("commerce detail", ["Boutique {n}", "{n} & Fils", "Maison {n}"], [
        "commerce de détail", "gestion de boutique", "merchandising", "vitrines", "gestion des stocks",
        "caisse", "vente en magasin", "franchise", "commerce de proximité"], 5),
]

HOBBIES = [
    "randonnée", "randonnée en montagne", "rando", "trekking", "marche nordique", "photographie", "photo",
    "photo animalière", "vélo", "cyclisme", "VTT", "course à pied", "trail", "marathon", "natation", "voile",
    "kayak", "ski", "escalade", "alpinisme", "tennis", "golf", "football", "rugby", "judo", "yoga", "pilates",
    "musique", "guitare", "piano", "chorale", "chant", "batterie", "jazz", "théâtre", "théâtre d'improvisation",
    "cinéma", "lecture", "romans policiers", "bandes dessinées", "écriture", "cuisine", "pâtisserie",
    "cuisine italienne", "œnologie", "dégustation de vins", "jardinage", "potager", "bricolage", "menuiserie",
    "couture", "tricot", "généalogie", "histoire locale", "échecs", "bridge", "jeux de société", "aquarelle",
    "dessin", "peinture", "sculpture", "poterie", "astronomie", "pêche", "chasse", "apiculture", "équitation",
    "danse", "salsa", "tango", "voyages", "moto", "voitures anciennes", "aéromodélisme", "plongée sous-marine",
    "bénévolat", "scoutisme", "brocantes", "philatélie", "ornithologie", "mycologie", "jeux vidéo",
]

PARTICULARS = [
    ("parle couramment allemand", 6), ("germanophone", 3), ("bilingue franco-allemand", 2),
    ("a vécu dix ans à Munich", 1), ("parle anglais couramment", 8), ("bilingue anglais", 4),
    ("a travaillé 5 ans à Londres", 2), ("parle espagnol", 5), ("hispanophone", 2), ("a vécu au Mexique", 1),
    ("parle italien", 3), ("parle portugais", 2), ("parle arabe", 3), ("parle mandarin", 2),
    ("parle chinois", 1), ("a vécu à Shanghai", 1), ("parle russe", 1), ("parle néerlandais", 1),
    ("langue des signes (LSF)", 2),
    ("ancien pompier volontaire", 3), ("sapeur-pompier volontaire", 3), ("ancien pompier professionnel", 1),
    ("secouriste (PSC1)", 4), ("formateur SST", 2), ("ancien militaire", 3), ("ancien gendarme", 2),
    ("ancien policier", 1), ("ancien infirmier", 2), ("ancienne infirmière", 2), ("ancien professeur de mathématiques", 2),
    ("ancienne institutrice", 2), ("ancien banquier", 2), ("ancien journaliste", 2), ("ancien avocat", 1),
    ("ancien chef cuisinier", 1), ("ancien sportif de haut niveau", 1), ("ancienne danseuse", 1),
    ("élu municipal", 3), ("adjoint au maire", 1), ("juge au tribunal de commerce", 2), ("conseiller prud'homal", 2),
    ("président d'une association sportive", 3), ("trésorier d'une association", 3), ("bénévole aux Restos du cœur", 2),
    ("membre du Rotary", 2), ("permis poids lourd", 2), ("permis bateau", 2), ("pilote d'avion privé", 1),
    ("titulaire du permis C", 1), ("possède un camion", 1), ("reconnu travailleur handicapé (RQTH)", 2),
    ("malentendant", 1), ("parent d'un enfant autiste", 1), ("aidant d'un parent âgé", 2),
    ("a créé et revendu deux entreprises", 2), ("a traversé un redressement judiciaire", 2),
    ("mentor au Réseau Entreprendre", 2), ("ancien expatrié au Canada", 1), ("a vécu en Allemagne", 2),
    ("connaît bien le monde agricole", 2), ("diplômé d'une école de commerce", 2), ("ingénieur de formation", 3),
    ("docteur en chimie", 1), ("ceinture noire de karaté", 1), ("radioamateur", 1), ("maître-nageur sauveteur", 1),
    ("guide de haute montagne", 1), ("sommelier diplômé", 1),
]

SEPARATORS = [", ", ", ", ", ", "; ", " ; ", " / ", " - ", "\n"]


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).replace(
        "œ", "oe")


def _pick_weighted(rng: random.Random, items: list[tuple[str, int]]) -> str:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def _join(rng: random.Random, parts: list[str]) -> str:
    separator = rng.choice(SEPARATORS)
    text = separator.join(parts)
    if text and rng.random() < 0.1:
        text = text[0].upper() + text[1:]
    return text


def _sentence_skills(rng: random.Random, trade_skills: list[str]) -> str:
    """Some members write a sentence rather than a list."""
    first, second = rng.sample(trade_skills, 2)
    pattern = rng.choice([
        "Je m'occupe de {a} et de {b} depuis {y} ans",
        "{A}, avec une expérience en {b}",
        "{y} ans d'expérience en {a}. Aussi {b}.",
        "Spécialisé(e) en {a} ; {b}",
    ])
    return pattern.format(a=first, b=second, A=first[0].upper() + first[1:], y=rng.randint(5, 30))


def make_member(rng: random.Random, index: int, used_emails: set[str]) -> dict[str, str]:
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    trade_index = rng.choices(range(len(TRADES)), weights=[t[3] for t in TRADES])[0]
    _, companies, trade_skills, _ = TRADES[trade_index]
    if rng.random() < 0.18:
        skills = _sentence_skills(rng, trade_skills)
    else:
        parts = rng.sample(trade_skills, rng.randint(2, min(5, len(trade_skills))))
        if rng.random() < 0.25:  # a second string to their bow
            other = TRADES[rng.randrange(len(TRADES))][2]
            parts.append(rng.choice(other))
        skills = _join(rng, parts)
    hobbies = _join(rng, rng.sample(HOBBIES, rng.randint(1, 3))) if rng.random() < 0.85 else ""
    particulars = ""
    roll = rng.random()
    if roll < 0.55:
        count = 1 if roll < 0.42 else 2
        chosen: list[str] = []
        while len(chosen) < count:
            item = _pick_weighted(rng, PARTICULARS)
            if item not in chosen:
                chosen.append(item)
        particulars = _join(rng, chosen)
    if rng.random() < 0.10:  # typed without accents
        skills, hobbies, particulars = fold(skills), fold(hobbies), fold(particulars)
    if rng.random() < 0.04:
        skills = skills.upper()
    local = fold(f"{first}.{last}").lower().replace(" ", "").replace("'", "")
    email = f"{local}@{rng.choice(DOMAINS)}"
    suffix = 2
    while email in used_emails:
        email = f"{local}{suffix}@{email.split('@')[1]}"
        suffix += 1
    used_emails.add(email)
    company = rng.choice(companies).format(n=last)
    phone = "0" + rng.choice("1234567") + "".join(str(rng.randrange(10)) for _ in range(8))
    return {"email": email, "first_name": first, "last_name": last, "company": company, "phone": phone,
            "skills": skills, "hobbies": hobbies, "particulars": particulars,
            "visibility": rng.choice(["confidentielle", "confidentielle", "membres"])}


def generate_members(count: int = COUNT, seed: int = SEED) -> list[dict[str, str]]:
    rng = random.Random(seed)
    used: set[str] = set()
    return [make_member(rng, i, used) for i in range(count)]


def write_csv(path: Path, members: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(members)


def main() -> int:
    write_csv(OUT, generate_members(COUNT, SEED))
    print(f"{COUNT} members -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
