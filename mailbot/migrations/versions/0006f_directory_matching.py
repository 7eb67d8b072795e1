"""members.directory_contacts (which contact fields the directory shows); member_terms rebuilt for the members
whose profile has a word of several trades

Issue 12: "réseau" in a profile now becomes the term of its sense ("reseau~info" for "réseaux informatiques",
"reseau~social", "reseau~pro"), and so does "sécurité" (informatique / incendie); see mailbot.matching. Rows indexed
before hold the bare stem, which a request about a professional network would still match: those members' rows
are rebuilt here from their profile, with the matching code of this version.

members.directory_contacts: the contact fields a member visible to members shows in the directory ("annuaire");
existing members keep what "visible to members" meant so far, their e-mail and phone.

Revision ID: 0006f_directory_matching
Revises: 0005f_erasure
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0006f_directory_matching'
down_revision = '0006b_counterparts'
branch_labels = None
depends_on = None

_AMBIGUOUS = ('reseau', 'secur', 'securit')


def upgrade() -> None:
    op.add_column('members', sa.Column('directory_contacts', sa.String(length=40), nullable=False,
                                       server_default='e-mail, téléphone'))
    _reindex()


def _reindex() -> None:
    from mailbot.matching import member_rows  # the index is data computed by the code: this version's rules

    connection = op.get_bind()
    terms = sa.table('member_terms', sa.column('member_id', sa.Integer), sa.column('term', sa.String),
                     sa.column('field', sa.String), sa.column('word', sa.String))
    members = sa.table('members', sa.column('id', sa.Integer), sa.column('skills', sa.Text),
                       sa.column('hobbies', sa.Text), sa.column('particulars', sa.Text))
    ids = sorted(set(connection.execute(sa.select(terms.c.member_id).where(terms.c.term.in_(_AMBIGUOUS))).scalars()))
    for offset in range(0, len(ids), 500):
        chunk = ids[offset:offset + 500]
        rows = connection.execute(sa.select(members.c.id, members.c.skills, members.c.hobbies, members.c.particulars)
                                  .where(members.c.id.in_(chunk))).all()
        connection.execute(terms.delete().where(terms.c.member_id.in_(chunk)))
        new = [row for member in rows for row in member_rows(member.id, member.skills or '', member.hobbies or '',
                                                               member.particulars or '')]
        if new:
            connection.execute(terms.insert(), new)


def downgrade() -> None:
    # The index rows with a sense stay valid for the older code: they merely no longer match the bare stem.
    with op.batch_alter_table('members') as batch:
        batch.drop_column('directory_contacts')
