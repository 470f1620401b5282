"""logbook: interns' consultation entries, their versions, problems and competences

Revision ID: 0003_logbook
Revises: 0002_web
"""

import sqlalchemy as sa
from alembic import op

# frozen copies of the vocabularies at this revision (p4dp.logbook.reference; a later change
# needs its own migration)
STATUS_CHECK = "status IN ('draft', 'submitted', 'validated')"
SEX_CHECK = "patient_sex IN ('F', 'M')"
AGE_BAND_CHECK = "age_band IN ('0-1', '2-15', '16-24', '25-44', '45-64', '65-74', '75+')"
LEVEL_CHECK = "level IN ('novice', 'intermediaire', 'competent')"

revision = "0003_logbook"
down_revision = "0002_web"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "logbook_entry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("intern_id", sa.Integer, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("supervisor_id", sa.Integer, sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        _when("created_at"),
        _when("updated_at"),
    )
    op.create_index("ix_logbook_entry_intern_id", "logbook_entry", ["intern_id"])
    op.create_index("ix_logbook_entry_supervisor_id", "logbook_entry", ["supervisor_id"])
    op.create_table(
        "logbook_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.Integer, sa.ForeignKey("logbook_entry.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("consultation_date", sa.Date, nullable=False),
        sa.Column("practice", sa.String(200), nullable=False),
        sa.Column("age_band", sa.String(8), nullable=False),
        sa.Column("patient_sex", sa.String(1), nullable=False),
        sa.Column("analysis", sa.Text, nullable=False),
        sa.Column("supervisor_comment", sa.Text),
        sa.Column("author_id", sa.Integer, sa.ForeignKey("app_user.id"), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _when("submitted_at", True),
        sa.Column("reviewed_by", sa.Integer, sa.ForeignKey("app_user.id")),
        _when("reviewed_at", True),
        sa.UniqueConstraint("entry_id", "version", name="entry_version"),
        sa.CheckConstraint(STATUS_CHECK, name="status"),
        sa.CheckConstraint(SEX_CHECK, name="patient_sex"),
        sa.CheckConstraint(AGE_BAND_CHECK, name="age_band"),
    )
    code = {f"{field}_{kind}": sa.Column(f"{field}_{kind}", sa.String(3))
            for field in ("reason", "result", "procedure") for kind in ("code", "suggested")}
    op.create_table(
        "logbook_problem",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("logbook_version.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("reason_text", sa.Text, nullable=False),
        code["reason_code"], code["reason_suggested"],
        sa.Column("result_text", sa.Text, nullable=False),
        code["result_code"], code["result_suggested"],
        sa.Column("procedure_text", sa.Text, nullable=False),
        code["procedure_code"], code["procedure_suggested"],
        sa.UniqueConstraint("version_id", "position", name="problem_version_position"),
    )
    op.create_index("ix_logbook_problem_version_id", "logbook_problem", ["version_id"])
    op.create_table(
        "logbook_competence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("logbook_version.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("competence", sa.String(32), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("justification", sa.Text, nullable=False),
        sa.UniqueConstraint("version_id", "position", name="competence_version_position"),
        sa.CheckConstraint(LEVEL_CHECK, name="level"),
    )
    op.create_index("ix_logbook_competence_version_id", "logbook_competence", ["version_id"])


def downgrade() -> None:
    for table in ("logbook_competence", "logbook_problem", "logbook_version", "logbook_entry"):
        op.drop_table(table)
