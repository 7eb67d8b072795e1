"""Every mail a person reads, rendered and checked the way a mail client would show it."""
from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy

import pytest

from mailbot.compose import TEMPLATES_DIR, Rendered, TemplateRenderer, build_message
from mailbot.workflows.notices import Flood

MEMBER = {"name": "Alice Martin", "first_name": "Alice", "email": "alice@membres.test", "company": "Martin Conseil",
          "phone": "06 12 34 56 78"}
TICKET = {"club_name": "Club Aide", "ref": "CA-2026-0042", "title": "Besoin d'un avocat",
          "summary": "Je cherche un avocat en droit du travail pour un litige avec un salarié.", "status": "new",
          "due_date": "lundi 30 novembre 2026", "member": MEMBER,
          "reply_address": "aide+t42a-0123456789abcdef0123@club.test"}
COMMAND_ADDRESS = "aide+c0a-0123456789abcdef0123@club.test"
TICKET["command_address"] = COMMAND_ADDRESS
NOTICE = {"club_name": "Club Aide", "reply_address": COMMAND_ADDRESS, "command_address": COMMAND_ADDRESS}
FORM = ["Nom :", "Prénom :", "Entreprise :", "Activité :", "Adresse postale :", "Téléphone :",
        "Courriel : jean@ailleurs.test", "Compétences :", "Loisirs :", "Particularités :",
        "Visibilité (confidentielle ou membres) :", "Appels du réseau (oui ou non) : oui",
        "Acceptation des conditions :"]
PROFILE = NOTICE | {"first_name": "Jean", "address": "jean@ailleurs.test", "profile": [
    "Nom : Dupont", "Prénom : Jean", "Entreprise : Dupont Menuiserie", "Activité : menuisier",
    "Adresse postale : 3 rue du Port, 44000 Nantes", "Téléphone : 06 11 22 33 44", "Courriel : jean@ailleurs.test",
    "Compétences : menuiserie, agencement", "Loisirs :", "Particularités : parle allemand",
    "Visibilité (confidentielle ou membres) : membres", "Appels du réseau (oui ou non) : oui",
    "Annonces du Club (activités, sondages) : oui", "Droit à l'image (oui ou non) : non"]}
DOC_ENTRY = {"number": 3, "title": "Guide de la facture électronique", "section": "Comptabilité",
             "filename": "guide-facture.pdf", "size": "240 Ko"}
DOC_SECTIONS = [{"name": "Comptabilité", "documents": [{"number": 3, "title": "Guide de la facture électronique",
                                                       "size": "240 Ko"}]},
                {"name": "Juridique", "documents": [{"number": 1, "title": "Modèle de statuts de SAS",
                                                    "size": "80 Ko"}]}]
ACTIVITY = {"ref": "AC-2027-003", "kind": "formation", "title": "La facture électronique en 2027",
            "when": "vendredi 15 janvier 2027 à 14 h 00", "duration": "2 h", "place": "Salle du Club, Lyon",
            "online": False, "places": 12, "fee": "20 €", "free": False, "until": "mardi 12 janvier 2027",
            "cancel_until": "jeudi 14 janvier 2027 à 23 h 59", "status": "open", "booked": 10, "left": 2,
            "waiting": 0, "text": "Ce qui change pour les petites entreprises, et comment s'y préparer."}
LONG = "Je cherche un avocat en droit du travail pour un litige avec un salarié qui conteste son licenciement " * 3
POLL = {"club_name": "Club Aide", "poll_ref": "SO-2027-001", "question": "Quel jour pour le prochain atelier ?",
        "choices": [{"number": 1, "label": "le mardi après-midi"}, {"number": 2, "label": "le jeudi après-midi"}],
        "closes": "vendredi 15 janvier 2027 à 18 h 00", "anonymous": True, "results_to": "membres", "asked": 3,
        "voted": 2, "open": True, "activity_ref": ""}
POLL_RESULTS = {"results": [{"number": 1, "label": "le mardi après-midi", "votes": 1, "percent": 33},
                            {"number": 2, "label": "le jeudi après-midi", "votes": 2, "percent": 67}], "total": 3,
                "voted": 3}
SAMPLES = {
    "accuse_reception": TICKET | {"request_text": LONG, "attachments": [("contrat.pdf", "12 Ko")]},
    "decision_concurrente": NOTICE | {"ref": "CA-2026-0042", "state": "acceptée", "sender": "second@club.test",
                                      "attempted": ["#refuser hors du champ du Club"],
                                      "earlier": [{"actor": "aideur@club.test", "line": "#accepter",
                                                   "when": "jeudi 26 novembre 2026 à 11 h 00"}]},
    "decision_concurrente_collegue": NOTICE | {"ref": "CA-2026-0042", "state": "acceptée",
                                               "sender": "second@club.test",
                                               "attempted": ["#refuser hors du champ du Club"],
                                               "own": [{"actor": "aideur@club.test", "line": "#accepter",
                                                        "when": "jeudi 26 novembre 2026 à 11 h 00"}]},
    "notification_nouvelle_demande": TICKET | {"ack": {"status": "held", "limit": 3,
                                                       "until": "jeudi 26 novembre 2026 à 12 h 00"},
                                               "request_text": LONG, "attachments": [("contrat.pdf", "12 Ko")],
                                                "attachments_forwarded": False, "folder": "mailbot-traites",
                                                "forwarded": [{"sender": "Gérard Lenoir <g.lenoir@client.test>",
                                                               "date": "mar. 1 déc. 2026 à 18:12",
                                                               "subject": "Facture", "text": LONG, "attached": ""}],
                                                "matches": [{"name": "Bruno Petit", "email": "bruno@membres.test",
                                                             "reason": "droit du travail (compétences)"}]},
    "notification_suivi": TICKET | {"sender": "alice@membres.test", "sender_is_owner": True, "text": LONG,
                                    "attachments": [("plan.png", "2,1 Mo")], "attachments_forwarded": True,
                                    "folder": "mailbot-traites", "ticket_closed": False, "state": "acceptée",
                                    "last_decision": "#accepter 15/12, par aideur@club.test, le jeudi 26 novembre "
                                                     "2026 à 11 h 05"},
    "cloture_silencieuse": TICKET,
    "notification_copie": TICKET | {"sender": "david@membres.test", "sender_name": "David Roux", "flood": None,
                                    "sender_is_aideur": False,
                                    "sender_is_owner": False, "to": "alice@membres.test",
                                    "cc": "aide@club.test, chloe@membres.test", "blind": False,
                                    "subject": "RE: Devis toiture", "text": LONG, "no_new_text": False,
                                    "forwarded": [], "attachments": [("plan.png", "2,1 Mo")],
                                    "attachments_forwarded": True, "folder": "mailbot-traites",
                                    "ticket_closed": False},
    "notification_non_membre": NOTICE | {"fate": {"status": "dropped", "limit": 10},
                                         "sender": "jean@ailleurs.test", "flood": Flood(13, 13), "rate_limit": 10,
                                         "subject": "Renseignement", "text": LONG, "former_member": True},
    "alerte_rebond": NOTICE | {"ref": "", "recipients": ["bruno@membres.test"], "members": ["Bruno Petit"],
                               "reason": "5.1.1 user unknown", "subject": "Undelivered"},
    "alerte_anonymat": NOTICE | {"ref": "CA-2026-0042", "recipient": "bruno@membres.test", "leaks": [
        {"what": "le nom du demandeur", "found": "Martin", "line": "Madame Martin cherche un comptable"}]},
    "alerte_aideur_sans_jeton": NOTICE | {"sender": "aideur@club.test", "subject": "#refuser CA-2026-0001"},
    "alerte_aideur_non_authentifie": NOTICE | {
        "sender": "aideur@club.test", "subject": "Re: [CA-2026-0001] Nouvelle demande",
        "detail": "adresse d'Aideur non authentifiée par mx.club.test (spf=fail, dkim=none, dmarc=fail pour "
                  "club.test) : aucune commande"},
    "alerte_aideur_ancienne_adresse": NOTICE | {
        "sender": "aideur@club.test", "subject": "CA-2026-0001 #solution",
        "detail": "ancienne adresse de commande d'Aideur (génération 0, remplacée) : aucune commande"},
    "nouvelle_adresse_commande": NOTICE,
    "alerte_commandes_en_nombre": NOTICE | {"limit": 10},
    "confirmation_commande": NOTICE | {
        "ref": "CA-2026-0042", "sender": "aideur@club.test", "expires": "mercredi 9 décembre 2026 à 10 h 00",
        "lines": ["CA-2026-0042", "#solution Voici la marche à suivre : " + LONG],
        "effects": ["à Alice Martin <alice@membres.test>, comme proposition du Club : « " + LONG[:300] + " »"]},
    "confirmation_commande_suite": NOTICE | {"ref": "CA-2026-0042", "outcome": "unclear",
                                            "expires": "mercredi 9 décembre 2026 à 10 h 00",
                                            "lines": ["CA-2026-0042", "#clore"]},
    "alerte_quarantaine": NOTICE | {"sender": "x@y.test", "flood": Flood(1, 100), "subject": "??", "reason": "mail illisible : " + LONG,
                                    "folder": "mailbot-quarantaine"},
    "alerte_echec_envoi": TICKET | {"recipient": "bruno@membres.test", "subject": "[CA-2026-0042] " + LONG,
                                    "error": "550 5.1.1 User unknown"},
    "aide": NOTICE,
    "erreur_commande": NOTICE | {"ref": "CA-2026-0042", "errors": [
        {"line": "#refuser", "problem": "La commande #refuser demande un motif : " + LONG}]},
    "liste_tickets": NOTICE | {"today": "jeudi 26 novembre 2026", "tickets": [
        {"ref": "CA-2026-0042", "state": "acceptée", "due": "mardi 15 décembre 2026", "late": True,
         "member": "Alice Martin", "title": "Besoin d'un avocat"}]},
    "message_aideur": TICKET | {"message": LONG},
    "acceptation": TICKET | {"message": LONG},
    "refus": TICKET | {"message": "", "reason": LONG},
    "report": TICKET | {"message": "", "reason": LONG, "promise": "answer"},
    "solution": TICKET | {"message": "", "solution": LONG},
    "devis": TICKET | {"message": "", "provider": "Durand Avocats", "subject_text": "Consultation",
                       "usual_price": "300 €", "club_price": "200 €", "saving": "100 €", "saving_percent": 33},
    "cloture": TICKET | {"message": "", "reason": "Merci"},
    "retrait": TICKET,
    "retrait_confirmation": TICKET,
    "notification_retrait": TICKET | {"text": "Résolu, merci"},
    "retard": TICKET | {"promise": "proposals", "reason": LONG, "reason_given": True,
                        "new_date": "mercredi 2 décembre 2026", "suggested_date": "2/12"},
    "rappel_echeance": TICKET | {"promise": "answer", "reason": "", "suggested_date": "2/12",
                                 "plain_reason": "Aideur n'a pas pu étudier votre demande à temps."},
    "alerte_retard": TICKET | {"promise": "answer", "reason": "congés", "reason_given": True,
                               "new_date": "mercredi 2 décembre 2026", "suggested_date": "2/12"},
    "alerte_jeton_membre": TICKET | {"sender": "aideur@club.test"},
    # Reopening (issue 12).
    "reouverture": TICKET | {"message": "Je reprends votre demande avec l'avocate du réseau."},
    "notification_reouverture": TICKET | {"sender": "alice@membres.test", "text": LONG, "previous_state": "close",
                                          "closed_date": "lundi 30 novembre 2026", "folder": "mailbot-traites",
                                          "attachments": [("plan.png", "2,1 Mo")]},
    # Membership by mail (issue 4).
    # Issue 13, point 2: a member's other addresses.
    "adresse_ajoutee": PROFILE | {"address": "jean.perso@ailleurs.test", "main": "jean@ailleurs.test",
                                  "by_member": True, "recipient": "jean@ailleurs.test"},
    "adresse_retiree": PROFILE | {"address": "jean.perso@ailleurs.test", "main": "jean@ailleurs.test"},
    "adresse_changee": PROFILE | {"old": "jean@ailleurs.test", "new": "jean.dupont@menuiserie.test", "kept": True},
    "adresse_confirmation": PROFILE | {"alias": "jean.perso@ailleurs.test", "days": 14},
    "adresse_confirmation_demandee": NOTICE | {"claimed": "jean@ailleurs.test", "days": 14},
    "de_la_part": NOTICE,
    "notification_adresse": NOTICE | {"name": "Jean Dupont", "main": "jean@ailleurs.test",
                                      "alias": "jean.perso@ailleurs.test", "linked": True, "problem": ""},
    "notification_de_la_part": NOTICE | {"sender": "secretariat@dupont.test", "name": "Jean Dupont",
                                         "main": "jean@ailleurs.test", "subject": "Devis", "text": LONG},
    "invitation": NOTICE | {"former_member": False, "form": FORM,
                            "conditions": "PRINCIPE\n\n" + LONG, "conditions_version": "V4/2018"},
    "inscription_incomplete": NOTICE | {"echoed": True, "form": FORM, "acceptance_missing": True,
                                        "conditions_version": "V4/2018", "problems": [
                                            {"field": "Téléphone", "problem": "« 12 » n'est pas un numéro complet"},
                                            {"field": "Adresse postale", "problem": "à remplir"}]},
    "inscription_refus_conditions": NOTICE | {"conditions_version": "V4/2018"},
    "bienvenue": PROFILE | {"other_address": "jean.perso@ailleurs.test", "conditions_version": "V4/2018"},
    "notification_nouveau_membre": NOTICE | PROFILE | {"fate": {"status": "held", "limit": 10,
                                                                 "until": "jeudi 26 novembre 2026 à 12 h 00"},
                                                        "name": "Jean Dupont", "conditions_version": "V4/2018",
                                                       "acceptance": "J'accepte les conditions V4/2018",
                                                       "accepted_at": "vendredi 27 novembre 2026 à 10 h 02",
                                                       "message_id": "abc@ailleurs.test"},
    "profil": PROFILE | {"changes": ["Téléphone", "Visibilité"], "accepted_now": False,
                         "email_not_changed": "autre@ailleurs.test"},
    "profil_erreur": PROFILE | {"problems": [{"field": "Visibilité", "problem": "choisissez confidentielle ou "
                                                                                "membres"}]},
    "confirmation_demandee": PROFILE | {"action": "effacer toutes vos données", "kind": "effacer",
                                        "open_refs": ["CA-2026-0042"], "days": 14},
    "confirmation_incomprise": PROFILE | {"action": "mettre fin à votre adhésion"},
    "profil_confirmation": PROFILE | {"wanted": [{"field": "Téléphone", "value": "07 00 00 00 01"}],
                                      "acceptance": True, "days": 14},
    "inscription_confirmation": NOTICE | {"conditions_version": "V4/2018", "days": 14, "former_member": True},
    "inscription_annulee": NOTICE,
    "inscription_sans_objet": NOTICE,
    "inscription_incomprise": NOTICE,
    "confirmation_annulee": PROFILE | {"action": "mettre fin à votre adhésion"},
    "confirmation_sans_objet": PROFILE,
    "annonces": PROFILE | {"on": False, "already": False},
    "adhesion_terminee": PROFILE,
    "notification_fin_adhesion": NOTICE | {"name": "Jean Dupont", "address": "jean@ailleurs.test",
                                           "reason": "Je pars à la retraite à la fin de l'année.",
                                           "open_refs": ["CA-2026-0042"]},
    "donnees_export": PROFILE | {"file": "mes-donnees.json", "member": True, "former_member": False,
                                 "tickets": 2, "acceptances": 1, "asked": 0, "received": 5, "sent": 9},
    "donnees_effacees": PROFILE,
    "notification_effacement": NOTICE | {"name": "Jean Dupont", "address": "jean@ailleurs.test", "number": 12,
                                         "open_refs": ["CA-2026-0042"]},
    "accord_demandeur": NOTICE | {"first_name": "Alice", "ref": "CA-2026-0042", "days": 7,
                                  "card": ["Nom", "Courriel", "Téléphone", "Entreprise"],
                                  "helper_activity": "juriste", "helper_skills": "droit social, prud'hommes",
                                  "offer": LONG},
    "accord_intervenant": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042", "days": 7,
                                    "card": ["Nom", "Courriel"], "summary": LONG},
    "accord_rappel": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042", "role": "helper",
                               "card": ["Nom", "Courriel"], "deadline": "jeudi 3 décembre 2026",
                               "proposal": ["Courriel"]},
    "accord_incompris": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042", "role": "helper",
                                  "fields": ["email"], "card": [("Courriel", "bruno@membres.test")],
                                  "suspended": False},
    "accord_enregistre": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042", "role": "helper",
                                   "shared": ["Courriel"]},
    "accord_restreint": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042", "role": "helper",
                                  "fields": ["name", "email"], "card": [("Nom", "Bruno Petit"),
                                                                        ("Courriel", "bruno@membres.test")],
                                  "missing": [], "no_channel": False},
    "accord_refus_enregistre": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042", "withdrawn": True},
    "accord_sans_objet": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042", "role": "helper",
                                   "state": "refused"},
    "relation_annulee": NOTICE | {"first_name": "Alice", "ref": "CA-2026-0042", "role": "requester"},
    "coordonnees": NOTICE | {"first_name": "Alice", "ref": "CA-2026-0042", "role": "requester", "card": [
        ("Nom", "Bruno Petit"), ("Courriel", "bruno@membres.test"), ("Téléphone", "06 98 76 54 32")]},
    "notification_accord_tiers": TICKET | {"sender": "x@ailleurs.test", "asked": "Bruno Petit", "text": LONG},
    "notification_relation_refusee": TICKET | {"who": "Bruno Petit", "role": "le membre qui propose son aide",
                                               "line": "Non merci, pas en ce moment.", "withdrawn": False,
                                               "partner": "Alice Martin"},
    "notification_relation_faite": TICKET | {"requester": "Alice Martin", "helper": "Bruno Petit", "answers": [
        ("Alice Martin", "Oui, d'accord", "jeudi 26 novembre 2026", ["Nom", "Courriel", "Téléphone"]),
        ("Bruno Petit", "Oui, juste mon e-mail / OUI", "vendredi 27 novembre 2026", ["Courriel"])]},
    "notification_relation_expiree": TICKET | {"silent": ["Bruno Petit"], "agreed": ["Alice Martin"]},
    "formulaire_resultat": NOTICE | {"first_name": "Alice", "ref": "CA-2026-0042", "title": "Besoin d'un avocat",
                                     "role": "requester", "cause": "la solution proposée", "reminder": 1, "again": False,
                                     "form": ["Résultat (résolu / en partie / non résolu / en cours) :",
                                              "Satisfaction (de 1 à 5) :", "Commentaire (facultatif) :"]},
    "formulaire_resultat_intervenant": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042", "title": "",
                                                 "role": "helper", "cause": "votre mise en relation", "reminder": 0,
                                                 "again": False,
                                                 "form": ["Résultat (résolu / en partie / non résolu / en cours) :",
                                                          "Satisfaction (de 1 à 5) :", "Commentaire (facultatif) :"]},
    "notification_agenda": NOTICE | {"ref": "CA-2026-0042", "title": "Besoin d'un avocat",
                                     "sender": "Alice Martin <alice@membres.test> (membre)",
                                     "what": "réponse à une invitation (acceptée)", "summary": "Point comptable",
                                     "organizer": "Alice Martin <alice@membres.test>",
                                     "when": "mardi 8 décembre 2026 à 14 h 30", "subject": "Accepté : Point comptable",
                                     "counterpart": "", "text": "", "member_email": ""},
    "notification_merci": NOTICE | {"ref": "CA-2026-0042", "title": "Besoin d'un avocat", "closed": True,
                                    "name": "Alice Martin", "email": "alice@membres.test",
                                    "text": "Un grand merci pour votre aide !\nAlice", "counterpart": ""},
    "notification_remarque": NOTICE | {"ref": "", "ticket_ref": "CA-2026-0042", "title": "Besoin d'un avocat",
                                       "name": "Bruno Petit", "email": "bruno@membres.test", "role": "helper",
                                       "role_words": "le membre qui propose son aide", "question": True,
                                       "what": "la demande d'accord pour la mise en relation",
                                       "text": "Oui mais avant : c'est pour quel genre d'entreprise ?"},
    "devis_reponse": TICKET | {"accepted": True, "provider": "Durand Avocats", "line": "Oui, l'offre m'intéresse",
                               "remark": "Pouvez-vous me dire quand ils sont disponibles ?"},
    "notification_devis_reponse": TICKET | {"accepted": True, "provider": "Durand Avocats",
                                            "line": "Oui, l'offre m'intéresse",
                                            "remark": "Pouvez-vous me dire quand ils sont disponibles ?"},
    "resultat_incompris": NOTICE | {"first_name": "Alice", "ref": "CA-2026-0042", "problems": [],
                                    "form": ["Résultat (résolu / en partie / non résolu / en cours) :"]},
    "resultat_merci": NOTICE | {"first_name": "Alice", "ref": "CA-2026-0042", "result": "en cours",
                                "satisfaction": 4, "problems": [], "still_going": True,
                                "asked_again": "jeudi 3 décembre 2026", "forwarded": True},
    "notification_resultat": TICKET | {"name": "Alice Martin", "role": "requester", "result": "résolu",
                                       "satisfaction": 5, "comment": LONG, "updated": False},
    # Appeals (issue 4).
    "appel": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042", "text": LONG, "reason": "paie (compétences)",
                       "due_date": "mardi 15 décembre 2026"},
    "appel_envoye": TICKET | {"text": LONG, "asked": [
        {"name": "Bruno Petit", "email": "bruno@membres.test", "reason": "paie, salaire (compétences)"}],
        "wanted": 3, "shortfall": "1 membre sur 3 demandés : 2 membres qui correspondraient ont choisi de ne pas "
                                  "recevoir les appels du réseau"},
    # The members' directory (issue 12).
    "annuaire": NOTICE | {"first_name": "Alice", "skill": "maçonnerie", "more": 0, "self_visible": True,
                          "self_contacts": "e-mail",
                          "entries": [{"name": "Bruno Petit", "company": "Petit Bâtiment", "activity": "Maçon",
                                       "skills": "maçonnerie, rénovation", "email": "bruno@membres.test",
                                       "phone": "06 98 76 54 32"}]},
    "annuaire_refus": NOTICE | {"former": False},
    "appel_merci": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042"},
    "appel_non_merci": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042"},
    "appel_deja_clos": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042"},
    "appel_termine": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042", "offered": True, "role": "connected"},
    "notification_offre": TICKET | {"number": 2, "again": False, "reason": "paie (compétences)", "text": LONG,
                                    "helper": {"name": "Bruno Petit", "email": "bruno@membres.test",
                                               "company": "Petit Paie", "phone": "06 98 76 54 32",
                                               "activity": "gestionnaire de paie", "skills": "paie"},
                                    "counterpart": "Votre texte sera envoyé à : Bruno Petit, qui propose son aide "
                                                   "(demande CA-2026-0042)."},
    # One reply address = one counterpart (issue 12, point 2).
    "message_intervenant": NOTICE | {"first_name": "Bruno", "ref": "CA-2026-0042", "message": LONG},
    "message_membre": NOTICE | {"first_name": "Jean", "message": "Bonjour Jean,\n" + LONG},
    "message_non_membre": NOTICE | {"message": "Bonjour,\n" + LONG, "conditions_version": "v1"},
    "notification_reponse": TICKET | {"name": "Bruno Petit",
                                      "email": "bruno@membres.test", "own": True,
                                      "sender": "bruno@membres.test", "text": LONG,
                                      "counterpart": "Votre texte sera envoyé à : Bruno Petit, qui propose son aide "
                                                     "(demande CA-2026-0042)."},
    "texte_sans_destinataire": TICKET | {"lines": ["Merci pour l'alerte.", "Je rappelle Alice."], "commands": 1,
                                         "counterpart": "Votre texte ne sera envoyé à personne : ce mail ne concerne "
                                                        "aucun membre à qui écrire ; seules vos commandes seront "
                                                        "exécutées."},
    # Weekly digest for Aideur (docs/rules.md §11).
    "digest_hebdo": NOTICE | {
        "period": "du 23 au 29 novembre 2026", "today": "lundi 30 novembre 2026",
        "figures": {"requests": 6, "accepted": 2, "declined": 1, "solved": 2, "withdrawn": 1, "first_answer": "5 h",
                    "satisfaction": "3,7/5", "satisfaction_count": 3, "new_members": 3,
                    "results": [("résolu", 2), ("en partie", 1)]},
        "open_tickets": [{"ref": "CA-2026-0042", "member": "Alice Martin", "title": LONG[:49] + "…",
                          "state": "acceptée", "promise": "vos propositions", "due": "lun. 23/11", "late": True,
                          "days_late": 7},
                         {"ref": "CA-2026-0043", "member": "Chloé Durand", "title": "Devis de toiture",
                          "state": "proposition faite", "promise": "votre réponse", "due": "", "late": False,
                          "days_late": 0}],
        "late_count": 1,
        "consents": [{"ref": "CA-2026-0044", "member": "Bruno Petit", "role": "aidant", "since": "ven. 27/11",
                      "reminded": True}],
        "forms": [{"ref": "CA-2026-0039", "member": "Alice Martin", "role": "demandeur", "sent": "ven. 20/11",
                   "reminders": 2}],
        "new_members": [{"name": "Jean Dupont", "activity": "menuisier", "joined": "mar. 24/11"}],
        "suggestions": [{"number": 3, "member": "Alice Martin", "when": "jeu. 26/11",
                         "text": "Suggestion : des ateliers le soir, après 18 h, pour ceux qui travaillent."}],
        "reciprocity": {"askers": 3, "givers": 2, "more_givers": 0, "more_takers": 2, "never_gave": 4,
                        "top": [{"name": "Bruno Petit", "detail": "2 offres, 1 mise en relation", "given_total": 7,
                                 "asked_total": 1},
                                {"name": "Chloé Durand", "detail": "1 offre", "given_total": 1, "asked_total": 0}],
                        "takers": [{"name": "Alice Martin", "asked_period": 1, "asked_total": 3}]},
        "activities": [{"ref": "AC-2027-003", "title": "La facture électronique en 2027", "when": "ven. 15/01",
                        "places": 12, "booked": 12, "waiting": 2, "closed": False}],
        "polls": [{"ref": "SO-2027-001", "question": "Quel jour pour le prochain atelier ?", "closes": "ven. 08/01",
                   "asked": 30, "voted": 12, "open": True}]},
    # Absences (issue 13, point 4).
    "absence_membre": NOTICE | {"first_name": "Alice", "ref": "CA-2026-0042", "starts": "mardi 22 décembre 2026",
                                "ends": "mardi 5 janvier 2027",
                                "back": "mercredi 6 janvier 2027", "tickets": [
        {"ref": "CA-2026-0042", "title": "Besoin d'un avocat", "member": "Alice Martin",
         "before": "mercredi 23 décembre 2026", "after": "jeudi 7 janvier 2027"},
        {"ref": "CA-2026-0043", "title": LONG[:80], "member": "Alice Martin",
         "before": "jeudi 24 décembre 2026", "after": "vendredi 8 janvier 2027"}]},
    "absence_enregistree": NOTICE | {"starts": "mardi 22 décembre 2026", "ends": "mardi 5 janvier 2027",
                                     "back": "mercredi 6 janvier 2027", "reason": "congés de fin d'année",
                                     "moved": [{"ref": "CA-2026-0042", "member": "Alice Martin",
                                                "before": "mercredi 23 décembre 2026",
                                                "after": "jeudi 7 janvier 2027", "title": "Besoin d'un avocat"}]},
    "absence_etat": NOTICE | {"cancelled": False, "absence": {
        "starts": "mardi 22 décembre 2026", "ends": "mardi 5 janvier 2027", "back": "mercredi 6 janvier 2027",
        "reason": "congés"}},
    "absence_reponse_auto": NOTICE | {"ticket_ref": "CA-2026-0042", "subject": "Congés de fin d'année",
                                      "sender": "aideur@club.test", "declared": False, "back": ""},
    # Documentation and suggestions (issue 17, points 3 and 4).
    "doc_refus": NOTICE | {"former": False},
    "doc_liste": NOTICE | {"first_name": "Alice", "max_size": "5 Mo", "sections": DOC_SECTIONS},
    "doc_introuvable": NOTICE | {"first_name": "Alice", "max_size": "5 Mo", "sections": DOC_SECTIONS,
                                 "asked": "fiscalité", "unknown": []},
    "doc_envoi": NOTICE | {"first_name": "Alice", "max_size": "5 Mo", "sections": DOC_SECTIONS, "asked": "facture",
                           "attached": [DOC_ENTRY], "later": [DOC_ENTRY | {"number": 4}],
                           "too_big": [DOC_ENTRY | {"number": 5, "size": "12 Mo"}], "unknown": [9]},
    "doc_trop_gros_aideur": NOTICE | {"member_name": "Alice Martin", "member_email": "alice@membres.test",
                                      "max_size": "5 Mo", "documents": [DOC_ENTRY | {"size": "12 Mo"}]},
    "doc_ajoute": NOTICE | {"document": DOC_ENTRY, "keywords": "facture, TVA"},
    "suggestion_merci": NOTICE | {"first_name": "Alice", "summary": "Des ateliers le soir, après 18 h"},
    "suggestion_aideur": NOTICE | {"number": 3, "member_name": "Alice Martin", "member_email": "alice@membres.test",
                                   "subject": "Suggestion : ateliers du soir", "text": LONG},
    # Issue 17, polls (workflows/polls.py)
    **{name: POLL | extra for name, extra in {
        "sondage_question": {"first_name": "Alice"},
        "sondage_vote": {"first_name": "Alice", "changed": True, "choice": {"number": 2, "label": "le jeudi après-midi"}},
        "sondage_incompris": {"first_name": "Alice", "already_voted": True},
        "sondage_clos": {"first_name": "Alice"},
        "sondage_rappel": {"first_name": "Alice"},
        "sondage_resultats_membres": {"first_name": "Alice"} | POLL_RESULTS,
        "sondage_resultats": NOTICE | POLL_RESULTS | {"anonymous": False, "named": [
            {"name": "Alice Martin", "choice": "le jeudi après-midi"}, {"name": "Bruno Petit", "choice": "le mardi après-midi"}]},
        "sondage_cree": NOTICE | {"asked": ["Alice Martin", "Bruno Petit", "Chloé Durand"], "activity_ref": "AC-2027-003"},
        "sondage_qui": NOTICE | {"names": ["Bruno Petit", "Chloé Durand"]},
        "sondage_liste": NOTICE | {"polls": [POLL, POLL | {"poll_ref": "SO-2026-001", "open": False, "anonymous": False}]},
        "sondage_retour": NOTICE | {"member": "Alice Martin", "email": "alice@membres.test", "anonymous": False,
                                    "text": "Je ne sais pas encore, est-ce que l'atelier sera filmé ?"},
    }.items()},
    # Issue 17: activities.
    "activite_annonce": NOTICE | {"first_name": "Alice", "activity": ACTIVITY},
    "activite_reponse": NOTICE | {"first_name": "Alice", "activity": ACTIVITY, "outcome": "booked", "position": 0,
                                  "status": "booked"},
    "activite_offre": NOTICE | {"first_name": "Alice", "activity": ACTIVITY, "outcome": "offered",
                                "expires": "dimanche 10 janvier 2027 à 10 h 00"},
    "activite_rappel": NOTICE | {"first_name": "Alice", "activity": ACTIVITY},
    "activite_annulee": NOTICE | {"first_name": "Alice", "activity": ACTIVITY, "reason": "intervenant malade",
                                  "was": "booked"},
    "activite_modifiee": NOTICE | {"first_name": "Alice", "activity": ACTIVITY, "changed": ["date", "lieu"]},
    "activite_bilan": NOTICE | {"first_name": "Alice", "activity": ACTIVITY},
    "activite_liste": NOTICE | {"first_name": "Alice", "member": True, "single": False, "entries": [
        ACTIVITY | {"address": "aide+e7m-0123456789abcdef0123@club.test", "mine": "waiting", "position": 2}]},
    "activite_creee": NOTICE | {"activity": ACTIVITY, "count": 42, "skills": "facturation", "counterpart": ""},
    "activite_faite": NOTICE | {"activity": ACTIVITY, "counterpart": "",
                                "done": "L'activité AC-2027-003 passe de 12 à 14 places."},
    "activite_participants": NOTICE | {"activity": ACTIVITY, "counterpart": "", "past": True, "rows": [
        {"name": "Alice Martin", "company": "Martin Conseil", "email": "alice@membres.test", "phone": "",
         "image_rights": "droit à l'image : oui"}]},
    "liste_activites": NOTICE | {"activities": [ACTIVITY], "counterpart": ""},
    "activite_retour": NOTICE | {"activity": ACTIVITY, "counterpart": "", "outcome": "thanks", "member": "Alice Martin",
                                 "email": "alice@membres.test", "text": "Très utile, merci ! Une suite au printemps ?"},
}


def test_every_template_has_a_sample():
    names = {p.stem for p in TEMPLATES_DIR.glob("*.j2") if not p.name.startswith("_")}
    assert names == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_template_reads_well(name):
    rendered = TemplateRenderer().render(name, SAMPLES[name])
    assert rendered.subject and "\n" not in rendered.subject
    for line in rendered.body.splitlines():
        assert len(line) <= 76 or " " not in line.strip(), f"line too long for a mail client: {line!r}"
        assert line == "-- " or line == line.rstrip()
    assert "None" not in rendered.body and "{{" not in rendered.body and "{%" not in rendered.body
    assert "\n\n\n" not in rendered.body


def test_command_sheet_lines_are_never_wrapped():
    sheet = TemplateRenderer().render("aide", SAMPLES["aide"]).body
    assert "  #accepter 15/12          demande prise, propositions pour le 15/12\n" in sheet
    assert "En anglais : #accept #decline #postpone #appeal #quote #connect #close #reopen #open #alias #list #help" \
        in " ".join(sheet.split())  # wrapped as a paragraph, with no-break spaces


def test_member_mails_say_what_to_do_next():
    ack = TemplateRenderer().render("accuse_reception", SAMPLES["accuse_reception"])
    assert "CA-2026-0042" in ack.subject and "CA-2026-0042" in ack.body
    assert "lundi 30 novembre 2026" in ack.body.replace("\u00a0", " ")  # a date is kept whole: no-break spaces
    assert "répondez" in ack.body and "RÉSOLU" in ack.body
    assert ack.body.rstrip().endswith("Club Aide")


def test_built_message_is_standard_utf8_with_threading_headers():
    raw = build_message(
        from_name="Club Aide", from_address="aide@club.test", to="alice@membres.test",
        reply_to="aide+t1m-0123456789abcdef0123@club.test", rendered=Rendered("Réponse à « élan »", "Héllo\n"),
        message_id="<t1m-0123456789abcdef0123.ab@club.test>", in_reply_to="<req@membres.test>",
        references=["<root@membres.test>", "<req@membres.test>"], auto_submitted="auto-replied",
        date=datetime(2026, 11, 26, 10, 0))
    assert raw.isascii()  # 7-bit on the wire: quoted-printable body, RFC 2047 subject
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Réponse à « élan »"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["In-Reply-To"] == "<req@membres.test>"
    assert message["References"] == "<root@membres.test> <req@membres.test>"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().replace("\r\n", "\n") == "Héllo\n"


def test_built_message_with_attachments_round_trips():
    from mailbot.parsers import Attachment, iter_attachment_payloads, parse_mail

    pdf = bytes(range(256)) * 300
    raw = build_message(
        from_name="Club Aide", from_address="aide@club.test", to="aideur@club.test",
        reply_to="aide+t1a-0123456789abcdef0123@club.test",
        rendered=Rendered("[CA-2026-0001] Nouvelle demande (Chloé Durand) : Contrat de travail à durée déterminée",
                          "Ligne avec = signe et espace finale \nSuite.\n"),
        message_id="<t1a-0123456789abcdef0123.ab@club.test>", in_reply_to=None,
        references=[f"<ref{i}@membres.test>" for i in range(8)], auto_submitted="auto-generated",
        date=datetime(2026, 11, 26, 10, 0),
        attachments=[(Attachment("contrat signé.pdf", "application/pdf", len(pdf), "attachment", 2), pdf),
                     (Attachment("note.txt", "text/plain", 3, "attachment", 3), b"abc")])
    assert raw.isascii()
    assert all(len(line) <= 78 for line in raw.split(b"\r\n")), "every line fits the RFC 5322 limit"
    message = message_from_bytes(raw, policy=policy.default)
    assert not message.defects and all(not part.defects for part in message.walk())
    assert message["Subject"] == "[CA-2026-0001] Nouvelle demande (Chloé Durand) : Contrat de travail à durée " \
                                 "déterminée"
    assert len(message["References"].split()) == 8
    body = message.get_body(("plain",))
    assert body.get_content().replace("\r\n", "\n") == "Ligne avec = signe et espace finale \nSuite.\n"
    parsed = parse_mail(raw)
    assert [(a.filename, a.size) for a in parsed.attachments] == [("contrat signé.pdf", len(pdf)), ("note.txt", 3)]
    assert [data for _, data in iter_attachment_payloads(raw)] == [pdf, b"abc"]


def test_appeal_mail_names_no_one_and_says_how_to_answer():
    """The helper's mail carries Aideur's text and the helper's own details only: never anyone else's."""
    rendered = TemplateRenderer().render("appel", SAMPLES["appel"])
    assert "Alice" not in rendered.body + rendered.subject and "Martin" not in rendered.body
    assert "non merci" in rendered.body and "répondez" in rendered.body
    assert "CA-2026-0042" in rendered.subject


def test_invitation_form_lines_are_readable_back_by_the_form_parser():
    """What the invitation prints, quoted back untouched, is not an answer: no value, no acceptance."""
    from mailbot.parsers.registration import parse_form

    body = TemplateRenderer().render("invitation", SAMPLES["invitation"]).body
    quoted = "\n".join("> " + line for line in body.splitlines())
    form = parse_form("Bonjour,\n\n" + quoted, "Bonjour,")
    assert form.acceptance is None and not form.refused
    assert set(form.values) <= {"email", "accepts_appeals", "accepts_announcements"} and not form.unreadable
