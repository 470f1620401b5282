"""governance: accounts and the hash-chained audit log

Revision ID: 0001_governance
Revises:
"""

import sqlalchemy as sa
from alembic import op

# frozen copy of the roles at this revision (a later change of ROLES needs its own migration)
ROLE_CHECK = ("role IN ('gp', 'intern', 'supervisor', 'department', 'researcher', "
              "'data_steward', 'ethics', 'epidemiologist', 'admin')")

revision = "0001_governance"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("practitioner_id", sa.String(64)),
        sa.Column("practice_id", sa.String(64)),
        sa.Column("region_code", sa.String(8)),
        sa.Column("department", sa.String(200)),
        sa.Column("supervisor_id", sa.Integer, sa.ForeignKey("app_user.id")),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(ROLE_CHECK, name="role"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(500)),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("rows", sa.Integer),
        sa.Column("cells", sa.Integer),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("seq", name="seq"),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_head")
    op.drop_table("audit_entry")
    op.drop_table("app_user")
