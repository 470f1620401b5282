import duckdb
import pyarrow as pa
import pytest

from p4dp.cdm import CLINICAL_TABLES
from p4dp.privacy.withdrawal import WithdrawalError, blocked_filter, withdraw
from p4dp.warehouse.connect import create_schema
from p4dp.warehouse.load import upsert
from p4dp.warehouse.marts import MARTS, refresh_marts


@pytest.fixture
def con(tiny_central):
    con = duckdb.connect()
    create_schema(con)
    for t in CLINICAL_TABLES:
        upsert(con, t, tiny_central[t.name], "b1")
    con.execute("INSERT INTO quarantine (source_id, quarantine_id, table_name, patient_id, "
                "check_id, reason, record) VALUES ('arm', 'q1', 'biometric', NULL, 'plaus', "
                "'weight', '{\"patient_id\": \"arm_p1\"}')")
    refresh_marts(con)
    return con


def occurrences(con, value: str) -> dict[str, int]:
    """Search every string column of every table (marts included) for `value`."""
    found = {}
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name != 'withdrawal'"
    ).fetchall()]
    for t in tables:
        cols = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND "
            "(data_type = 'VARCHAR' OR data_type = 'VARCHAR[]')", [t]).fetchall()]
        for c in cols:
            n = con.execute(f"SELECT count(*) FROM {t} WHERE contains({c}::VARCHAR, ?)",
                            [value]).fetchone()[0]
            if n:
                found[f"{t}.{c}"] = n
    return found


def test_patient_withdrawal_leaves_no_trace_anywhere(con):
    assert occurrences(con, "arm_p1")
    r = withdraw(con, "patient", "arm_p1", "dpo@test")
    assert occurrences(con, "arm_p1") == {}
    assert r.detail["encounter"] == 2 and r.detail["quarantine"] == 1
    assert r.rows_deleted == sum(r.detail.values())
    # The other patient is untouched.
    assert con.execute("SELECT count(*) FROM encounter WHERE patient_id = 'arm_p2'").fetchone() == (1,)
    row = con.execute("SELECT kind, requested_by, rows_deleted FROM withdrawal").fetchone()
    assert row == ("patient", "dpo@test", r.rows_deleted)


def test_practitioner_withdrawal_purges_what_they_recorded_and_their_patients(con):
    withdraw(con, "practitioner", "arm_g2", "dr.g2")
    assert occurrences(con, "arm_g2") == {}
    assert occurrences(con, "arm_p2") == {}  # declared arm_g2 as treating GP
    # arm_p1 stays, without what arm_g2 recorded (encounter e2, its problem, biometric, drug).
    assert con.execute("SELECT encounter_id FROM encounter").fetchall() == [("arm_e1",)]
    assert con.execute("SELECT count(*) FROM biometric").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM prescription").fetchone() == (0,)
    assert con.execute("SELECT sum(n_encounters) FROM mart_patient_summary").fetchone() == (1,)


def test_future_loads_of_withdrawn_people_are_blocked(con, tiny_central):
    withdraw(con, "patient", "arm_p1", "dpo")
    kept, dropped = blocked_filter(con, tiny_central)
    assert "arm_p1" not in kept["patient"].column("patient_id").to_pylist()
    assert kept["encounter"].num_rows == 1
    assert dropped > 0
    withdraw(con, "practitioner", "arm_g2", "dr")
    kept, _ = blocked_filter(con, tiny_central)
    assert sum(t.num_rows for n, t in kept.items() if n not in ("practice", "practitioner")) == 0


def test_withdrawal_rejects_malformed_pseudonyms(con):
    with pytest.raises(WithdrawalError, match="not a P4DP pseudonym"):
        withdraw(con, "patient", "Dupont", "x")
    with pytest.raises(WithdrawalError, match="unknown kind"):
        withdraw(con, "family", "arm_p1", "x")


def test_marts_are_refreshed_per_source(con):
    before = {m.name: con.execute(f"SELECT count(*) FROM {m.name}").fetchone()[0] for m in MARTS}
    assert before["mart_patient_summary"] == 2
    con.execute("DELETE FROM problem WHERE patient_id = 'arm_p2'")
    refresh_marts(con, ["arm"])
    assert con.execute("SELECT sum(n) FROM mart_result_code_year").fetchone() == (2,)


def test_an_objection_reported_by_the_agent_purges_earlier_loads(con, tiny_central):
    from p4dp.privacy.withdrawal import record_objections

    patients = tiny_central["patient"]
    flags = [p == "arm_p2" for p in patients.column("patient_id").to_pylist()]
    incoming = dict(tiny_central)
    incoming["patient"] = patients.set_column(
        patients.column_names.index("opposition"), "opposition", pa.array(flags))
    assert record_objections(con, incoming, "agent:arm") == 1
    assert occurrences(con, "arm_p2") == {}
    assert con.execute("SELECT kind, requested_by FROM withdrawal").fetchall() == [
        ("patient", "agent:arm")]
    kept, _ = blocked_filter(con, incoming)
    assert "arm_p2" not in kept["patient"].column("patient_id").to_pylist()
    assert record_objections(con, incoming, "agent:arm") == 0  # idempotent
