"""cohorts: saved cohort definitions and their versions

Revision ID: 0004_cohorts
Revises: 0003_logbook
"""

import sqlalchemy as sa
from alembic import op

# frozen copy of the roles at this revision
SHARED_ROLE_CHECK = ("shared_role IS NULL OR shared_role IN ('gp', 'intern', 'supervisor', "
                     "'department', 'researcher', 'data_steward', 'ethics', 'epidemiologist', "
                     "'admin')")

revision = "0004_cohorts"
down_revision = "0003_logbook"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cohort_definition",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("shared_role", sa.String(32)),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(SHARED_ROLE_CHECK, name="shared_role"),
    )
    op.create_index("ix_cohort_definition_owner_id", "cohort_definition", ["owner_id"])
    op.create_table(
        "cohort_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("definition_id", sa.Integer, sa.ForeignKey("cohort_definition.id"),
                  nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("definition_id", "version", name="definition_version"),
    )


def downgrade() -> None:
    op.drop_table("cohort_version")
    op.drop_index("ix_cohort_definition_owner_id", "cohort_definition")
    op.drop_table("cohort_definition")
