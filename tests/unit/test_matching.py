"""Skill matching (mailbot.matching): the index, the ranking rules, and its quality on 300 realistic members."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailbot import matching
from mailbot.matching import Match, index_member, load_synonyms, rank, terms_of
from mailbot.models import Member, MemberTerm, utcnow

DATA = Path(__file__).resolve().parent.parent / "data"
SYNONYMS = load_synonyms()


@pytest.fixture
def db(database_url, sessions_for):  # type: ignore[no-untyped-def]
    """A session factory on a fresh migrated database (SQLite, then PostgreSQL)."""
    return sessions_for(database_url)


def add(session, email: str, skills: str = "", hobbies: str = "", particulars: str = "", **other) -> Member:  # type: ignore[no-untyped-def]
    other.setdefault("first_name", email.split("@")[0])
    other.setdefault("status", "active")
    member = Member(email=email, skills=skills, hobbies=hobbies, particulars=particulars, **other)
    session.add(member)
    session.flush()
    index_member(session, member)
    return member


def emails(session, matches: list[Match]) -> list[str]:  # type: ignore[no-untyped-def]
    return [session.get(Member, m.member_id).email for m in matches]


# --- text -------------------------------------------------------------------------------------------------------


def test_terms_fold_accents_and_case_and_inflections() -> None:
    assert {t for t, _ in terms_of("Comptabilité")} & {t for t, _ in terms_of("COMPTABLE")}
    assert {t for t, _ in terms_of("comptabilite")} & {t for t, _ in terms_of("comptable")}  # no accents typed
    assert {t for t, _ in terms_of("randonnee")} & {t for t, _ in terms_of("Randonnées")}
    assert {t for t, _ in terms_of("Œnologie")} & {t for t, _ in terms_of("oenologie")}
    assert terms_of("l'informatique")[0][1] == "informatique"  # elision dropped, the original word kept


def test_stop_words_and_request_filler_give_no_terms() -> None:
    assert terms_of("Bonjour, je cherche quelqu'un pour m'aider avec un client de mon entreprise, merci !") == []
    assert terms_of("J'ai besoin d'aide pour un problème, une question urgente") == []


def test_stop_words_match_nobody(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        add(session, "a@x.fr", skills="relation client, aide à la création d'entreprise", hobbies="bonjour")
        assert rank(session, "Bonjour, besoin d'aide avec un client de mon entreprise", synonyms=SYNONYMS) == []


def test_accents_and_case_match_either_way(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        plain = add(session, "plain@x.fr", skills="COMPTABILITE, fiscalite")
        accented = add(session, "accented@x.fr", skills="Comptabilité générale")
        found = {m.member_id for m in rank(session, "Je cherche un comptable", synonyms=SYNONYMS)}
        assert found == {plain.id, accented.id}
        found = {m.member_id for m in rank(session, "question de comptabilite", synonyms=SYNONYMS)}
        assert found == {plain.id, accented.id}


# --- who may be asked -------------------------------------------------------------------------------------------


def test_requester_and_unreachable_members_are_never_proposed(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        requester = add(session, "requester@x.fr", skills="paie")
        ok = add(session, "ok@x.fr", skills="paie")
        add(session, "ended@x.fr", skills="paie", status="ended")
        add(session, "no-appeals@x.fr", skills="paie", accepts_appeals=False)
        add(session, "bounced@x.fr", skills="paie", bounced_at=utcnow())
        erased = add(session, "erased@x.fr", skills="paie")
        erased.email, erased.status = None, "erased"  # as if erased without re-indexing: still never proposed
        session.flush()
        found = rank(session, "un souci de paie", synonyms=SYNONYMS, exclude_member_ids=[requester.id])
        assert [m.member_id for m in found] == [ok.id]


def test_index_is_rebuilt_from_the_current_profile(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        member = add(session, "a@x.fr", skills="plomberie", hobbies="voile")
        assert rank(session, "plombier", synonyms=SYNONYMS)
        member.skills, member.hobbies = "électricité", ""
        index_member(session, member)
        assert rank(session, "plomberie", synonyms=SYNONYMS) == []
        assert [m.member_id for m in rank(session, "électricien", synonyms=SYNONYMS)] == [member.id]
        member.skills = ""
        index_member(session, member)
        assert session.scalar(select(func.count()).select_from(MemberTerm)) == 0


# --- ranking ----------------------------------------------------------------------------------------------------


def test_skills_weigh_more_than_particulars_more_than_hobbies(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        hobby = add(session, "hobby@x.fr", hobbies="photographie")
        particular = add(session, "particular@x.fr", particulars="photographie")
        skill = add(session, "skill@x.fr", skills="photographie")
        found = rank(session, "un photographe pour nos produits ?", synonyms=SYNONYMS)
        assert [m.member_id for m in found] == [skill.id, particular.id, hobby.id]
        assert found[0].score > found[1].score > found[2].score


def test_rarer_words_weigh_more(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        for i in range(3):
            add(session, f"gestion{i}@x.fr", skills="gestion de projet")
        rare = add(session, "rare@x.fr", skills="apiculture")
        common = add(session, "common@x.fr", skills="gestion")
        found = rank(session, "gestion de ruches et apiculture", synonyms=SYNONYMS)
        assert found[0].member_id == rare.id
        assert common.id in [m.member_id for m in found]


def test_synonyms_single_and_multi_word(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        payroll = add(session, "payroll@x.fr", skills="gestion des salaires")
        bulletins = add(session, "bulletins@x.fr", skills="bulletins de salaire")
        add(session, "unrelated@x.fr", skills="bulletin municipal, vente")
        found = {m.member_id: m for m in rank(session, "ma fiche de paie est fausse", synonyms=SYNONYMS)}
        assert set(found) == {bulletins.id, payroll.id}  # not the "bulletin municipal"
        assert found[payroll.id].reason_text == "salaires (compétences)"
        web = add(session, "web@x.fr", skills="création de sites web")
        assert [m.member_id for m in rank(session, "refaire notre site internet", synonyms=SYNONYMS)] == [web.id]


def test_operator_synonyms_extend_the_builtin_list(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "synonymes.txt"
    extra.write_text("# nos mots\ndébarras, vide-maison, enlèvement d'encombrants  # commentaire\n", encoding="utf-8")
    synonyms = load_synonyms(extra)
    assert len(synonyms) == len(SYNONYMS) + 1
    with db.begin() as session:
        member = add(session, "a@x.fr", skills="enlèvement d'encombrants, plomberie")
        assert rank(session, "Qui pourrait faire le débarras de notre entrepôt ?", synonyms=SYNONYMS) == []
        found = rank(session, "Qui pourrait faire le débarras de notre entrepôt ?", synonyms=synonyms)
        assert [m.member_id for m in found] == [member.id]
        assert found[0].reason_text == "enlèvement encombrants (compétences)"
        assert [m.member_id for m in rank(session, "une fuite, un plombier ?", synonyms=synonyms)] == [member.id]


def test_missing_operator_synonyms_file_raises_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "absent.txt"
    with pytest.raises(ValueError, match="absent.txt"):
        load_synonyms(missing)
    undecodable = tmp_path / "latin1.txt"
    undecodable.write_bytes("pâtisserie, gâteaux".encode("latin-1"))
    with pytest.raises(ValueError, match="latin1.txt"):
        load_synonyms(undecodable)


def test_expand_gives_synonym_stems_a_lower_weight() -> None:
    expanded = SYNONYMS.expand(["pai"])
    assert expanded["pai"] == 1.0
    assert expanded["salair"] == pytest.approx(0.7)


def test_reason_text_is_readable(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        add(session, "a@x.fr", skills="gestion de la paie, salaires", hobbies="randonnée, piano",
            particulars="parle allemand")
        [found] = rank(session, "paie de mon salarié allemand, on parlera en randonnée", synonyms=SYNONYMS)
        assert found.reasons == (("compétences", "paie"), ("particularités", "allemand"), ("loisirs", "randonnée"))
        assert found.reason_text == "paie (compétences) ; allemand (particularités) ; randonnée (loisirs)"
    assert Match(1, 1.0, (("compétences", "paie"), ("compétences", "salaires"),
                          ("loisirs", "randonnée"))).reason_text == "paie, salaires (compétences) ; randonnée (loisirs)"


def test_explicit_skills_replace_the_text_and_dominate(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        hobbyist = add(session, "hobbyist@x.fr", hobbies="droit social, paie")
        lawyer = add(session, "lawyer@x.fr", skills="droit social")
        photographer = add(session, "photo@x.fr", skills="photographie")
        found = rank(session, "photographie", synonyms=SYNONYMS, skills="paie, droit social")
        assert [m.member_id for m in found] == [lawyer.id, hobbyist.id]
        assert photographer.id not in [m.member_id for m in found]


def test_limit(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        for i in range(8):
            add(session, f"m{i}@x.fr", skills="paie")
        assert len(rank(session, "paie", synonyms=SYNONYMS)) == 5
        assert len(rank(session, "paie", synonyms=SYNONYMS, limit=7)) == 7
        assert rank(session, "", synonyms=SYNONYMS) == []


# --- quality on 300 members -------------------------------------------------------------------------------------

# Measured on both databases (identical rankings): hit@5 = 1.00, recall@5 = 0.97 (one request of the 20 at 0.6,
# one at 0.8). For comparison, same code: without synonyms 0.85; expanding each word of a multi-word synonym
# separately instead of matching it as a sequence 0.85 (hit@5 0.95); weights skills/particulars/hobbies 3/2/1
# and no boost for words of the synonyms list 0.87. The thresholds leave a little room for future tuning.
HIT_AT_5_MIN = 0.95
RECALL_AT_5_MIN = 0.93


def load_members_csv(session, path: Path) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ids = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            ids[row["email"]] = add(session, **row).id
    return ids


def evaluate(session, requests: list[dict], ids: dict[str, int]) -> tuple[float, float, list[str]]:  # type: ignore[no-untyped-def]
    """(hit@5, recall@5, one line per request)."""
    hits = recall = 0.0
    lines = []
    for request in requests:
        right = {ids[email] for email in request["right"]}
        found = [m.member_id for m in rank(session, request["text"], synonyms=SYNONYMS, limit=5)]
        good = sum(1 for member_id in found if member_id in right)
        hits += good > 0
        recall += good / min(5, len(right))
        lines.append(f"{request['name']}: {good}/{min(5, len(right))}")
    return hits / len(requests), recall / len(requests), lines


def test_quality_on_300_members(db) -> None:  # type: ignore[no-untyped-def]
    requests = json.loads((DATA / "matching_requests.json").read_text(encoding="utf-8"))
    assert len(requests) == 20
    with db.begin() as session:
        ids = load_members_csv(session, DATA / "members_300.csv")
        assert len(ids) == 300
        hit, recall, lines = evaluate(session, requests, ids)
    print(f"hit@5 = {hit:.2f}, recall@5 = {recall:.2f}; " + ", ".join(lines))
    assert hit >= HIT_AT_5_MIN, lines
    assert recall >= RECALL_AT_5_MIN, lines


def test_generator_is_deterministic_and_matches_the_committed_csv() -> None:
    from tests.data.make_members_300 import COUNT, HEADER, SEED, generate_members

    with (DATA / "members_300.csv").open(newline="", encoding="utf-8") as handle:
        committed = list(csv.DictReader(handle))
    assert list(committed[0]) == HEADER
    assert committed == generate_members(COUNT, SEED)


def test_rank_and_naive_scoring_agree(db) -> None:  # type: ignore[no-untyped-def]
    """The SQL candidate selection loses nothing: same ranking as scoring every member's profile in Python."""
    requests = json.loads((DATA / "matching_requests.json").read_text(encoding="utf-8"))
    with db.begin() as session:
        load_members_csv(session, DATA / "members_300.csv")
        members = session.scalars(select(Member)).all()
        postings = [(m.id, term, field, word) for m in members
                    for row in matching.member_rows(m.id, m.skills, m.hobbies, m.particulars)
                    for term, field, word in [(row["term"], row["field"], row["word"])]]
        for request in requests:
            concepts = matching.concepts_of(request["text"], SYNONYMS)
            dfs: dict[str, int] = {}
            for _, term, _, _ in postings:
                dfs[term] = dfs.get(term, 0) + 1
            naive = matching.score(postings, concepts, dfs, len(members), limit=5)
            assert rank(session, request["text"], synonyms=SYNONYMS) == naive, request["name"]


def test_members_with_only_common_words_are_not_pruned_away(db) -> None:  # type: ignore[no-untyped-def]
    """rank() fetches the common words' rows only for the members the rarer words found, unless someone else
    could still reach the top: here the member who has all five common words beats the beekeepers."""
    words = ["gestion", "commercial", "vente", "formation", "marketing"]
    with db.begin() as session:
        for word in words:
            for i in range(25):
                add(session, f"{word}{i}@x.fr", skills=word)
        beekeepers = [add(session, f"bee{i}@x.fr", hobbies="apiculture").id for i in range(5)]
        allround = add(session, "allround@x.fr", skills=", ".join(words))
        text = "gestion commerciale, vente, formation, marketing et apiculture"
        found = rank(session, text, synonyms=SYNONYMS)
        assert found[0].member_id == allround.id
        members = session.scalars(select(Member)).all()
        postings = [(m.id, row["term"], row["field"], row["word"]) for m in members
                    for row in matching.member_rows(m.id, m.skills, m.hobbies, m.particulars)]
        dfs: dict[str, int] = {}
        for _, term, _, _ in postings:
            dfs[term] = dfs.get(term, 0) + 1
        assert found == matching.score(postings, matching.concepts_of(text, SYNONYMS), dfs, len(members), limit=5)
        assert set(beekeepers) & {m.member_id for m in rank(session, "apiculture, gestion", synonyms=SYNONYMS)}


# --- issue 12: generic words, quantities, senses ------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Un travail urgent", "un projet pour nos clients", "j'ai une page", "nos ateliers, aux normes",
    "6 pages", "3 jours", "200 euros", "150 000 euros", "80 m2", "deux semaines", "200 €",
])
def test_generic_words_and_quantities_ask_for_nothing(text: str) -> None:
    assert matching.concepts_of(text, SYNONYMS) == []


def test_generic_words_count_inside_an_expression_and_in_aideurs_own_skills(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        lawyer = add(session, "lawyer@x.fr", skills="droit du travail")
        carpenter = add(session, "wood@x.fr", skills="travail du bois")
        manager = add(session, "pm@x.fr", skills="gestion de projet")
        layout = add(session, "layout@x.fr", skills="mise en page, PAO")
        add(session, "pages@x.fr", skills="pages jaunes, annuaires")
        assert [m.member_id for m in rank(session, "une question de droit du travail", synonyms=SYNONYMS)] == [lawyer.id]
        assert rank(session, "Travail urgent, 6 pages, projet client", synonyms=SYNONYMS) == []
        assert [m.member_id for m in rank(session, "un chef de projet ?", synonyms=SYNONYMS)] == [manager.id]
        assert [m.member_id for m in rank(session, "la mise en page de 6 pages", synonyms=SYNONYMS)] == [layout.id]
        # "10 heures supplémentaires": the unit belongs to an expression of the synonyms list
        assert any(c.vocabulary for c in matching.concepts_of("10 heures supplémentaires à payer", SYNONYMS))
        found = rank(session, "x", synonyms=SYNONYMS, skills="travail")  # Aideur named it: taken as is
        assert {m.member_id for m in found} == {lawyer.id, carpenter.id}


@pytest.mark.parametrize(("text", "sense"), [
    ("réseaux informatiques", "info"), ("administration réseau", "info"), ("réseau wifi", "info"),
    ("réseaux sociaux", "social"), ("animation de réseau de vente", "pro"), ("réseau professionnel", "pro"),
    ("sécurité informatique", "info"), ("sécurité incendie", "incendie"), ("securite au travail", "incendie"),
    ("réseau", ""), ("Réseaux", ""),
])
def test_a_word_of_several_trades_gets_the_sense_its_item_gives(text: str, sense: str) -> None:
    [terms] = [terms for word, terms in matching.words_of(text) if fold_word(word).startswith(("reseau", "secur"))]
    marked = {t.split(matching.SENSE_MARK)[1] for t in terms if matching.SENSE_MARK in t}
    assert marked == ({sense} if sense else set())


def fold_word(word: str) -> str:
    return matching.fold(word)


def test_a_professional_network_is_not_a_computer_network(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as session:
        it = add(session, "it@x.fr", skills="réseaux informatiques, wifi")
        social = add(session, "social@x.fr", skills="réseaux sociaux, community management")
        sales = add(session, "sales@x.fr", skills="animation de réseau de vente, prospection")
        bare = add(session, "bare@x.fr", skills="réseau")
        ids = lambda text: {m.member_id for m in rank(session, text, synonyms=SYNONYMS)}
        assert ids("Je veux développer mon réseau professionnel et trouver des partenaires") == {sales.id, bare.id}
        assert ids("Le réseau du bureau tombe, le wifi coupe") == {it.id, bare.id}
        assert ids("Qui s'y connaît en réseaux sociaux ?") == {social.id}  # an expression: both words needed
        assert ids("Un souci de réseau") == {it.id, social.id, sales.id, bare.id}  # no sense said: anyone


# New requests written for issue 12 (tests/data/make_matching_requests_12.py writes them; who is right is a rule on
# the members' skills, written per request before measuring). Measured on both databases, same code before and
# after issue 12's changes (generic words, quantities, senses): precision@5 0.76 -> 0.81, recall@5 0.78 -> 0.81,
# hit@5 0.95 -> 1.00; on the first set (above) unchanged, 0.93 / 0.97 / 1.00. Most remaining misses are requests
# that name a second trade in passing ("avant le salon", "40 pages de contrat").
PRECISION_AT_5_MIN_12 = 0.80
HIT_AT_5_MIN_12 = 0.95


def test_quality_on_the_requests_of_issue_12(db) -> None:  # type: ignore[no-untyped-def]
    requests = json.loads((DATA / "matching_requests_12.json").read_text(encoding="utf-8"))
    assert len(requests) == 20
    with db.begin() as session:
        ids = load_members_csv(session, DATA / "members_300.csv")
        precision = hits = 0.0
        lines = []
        for request in requests:
            right = {ids[email] for email in request["right"]}
            found = [m.member_id for m in rank(session, request["text"], synonyms=SYNONYMS, limit=5)]
            good = sum(1 for member_id in found if member_id in right)
            precision += good / len(found) if found else 0.0
            hits += good > 0
            lines.append(f"{request['name']}: {good}/{len(found)}")
    precision, hits = precision / len(requests), hits / len(requests)
    print(f"precision@5 = {precision:.2f}, hit@5 = {hits:.2f}; " + ", ".join(lines))
    assert precision >= PRECISION_AT_5_MIN_12, lines
    assert hits >= HIT_AT_5_MIN_12, lines


def test_the_requests_of_issue_12_are_written_by_their_generator() -> None:
    from tests.data.make_matching_requests_12 import build

    assert json.loads((DATA / "matching_requests_12.json").read_text(encoding="utf-8")) == build()


def test_upgrade_gives_the_indexed_words_of_several_trades_their_sense(tmp_path: Path) -> None:
    """Members indexed before issue 12 hold the bare stem "reseau": the migration rebuilds their rows."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from mailbot.db import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0005f_erasure")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "insert into members (id, email, first_name, last_name, company, phone, skills, hobbies, particulars, "
            "visibility, status, accepts_appeals, created_at, updated_at) values (1, 'a@b.fr', 'Ana', 'Bel', '', '', "
            "'réseaux informatiques', 'voile', '', 'membres', 'active', 1, '2026-01-01', '2026-01-01')"))
        connection.execute(text("insert into member_terms (member_id, term, field, word) values "
                                "(1, 'reseau', 's', 'réseaux'), (1, 'informat', 's', 'informatiques'), "
                                "(1, 'voil', 'h', 'voile')"))
    upgrade(url)
    with engine.connect() as connection:
        rows = set(connection.execute(text("select term, field from member_terms")).all())
    assert ("reseau~info", "s") in rows and ("reseau", "s") not in rows
    assert rows == {(row["term"], row["field"]) for row in matching.member_rows(1, "réseaux informatiques", "voile", "")}
