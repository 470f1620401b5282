"""web: saved dashboards of the "+" editor

Revision ID: 0002_web
Revises: 0001_governance
"""

import sqlalchemy as sa
from alembic import op

# frozen copy of the roles at this revision
SHARED_ROLE_CHECK = ("shared_role IS NULL OR shared_role IN ('gp', 'intern', 'supervisor', "
                     "'department', 'researcher', 'data_steward', 'ethics', 'epidemiologist', "
                     "'admin')")

revision = "0002_web"
down_revision = "0001_governance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_dashboard",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("panels", sa.Text, nullable=False),
        sa.Column("shared_role", sa.String(32)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(SHARED_ROLE_CHECK, name="shared_role"),
    )


def downgrade() -> None:
    op.drop_table("saved_dashboard")
