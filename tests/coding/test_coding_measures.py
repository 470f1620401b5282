"""A measured value written as the finding ("IMC 33", "HbA1c 8,2 %") names the problem."""

import pytest

from p4dp.coding.coder import Coder
from p4dp.coding.measures import finding


@pytest.mark.parametrize("text, code", [
    ("IMC 33", "T82"),
    ("imc = 30", "T82"),             # the WHO threshold itself is obesity
    ("IMC 27,5", "T83"),
    ("HbA1c 8,2%", "T90"),
    ("HbA1c à 6.5", "T90"),
    ("hba1c 58 mmol/mol", "T90"),    # IFCC units
    ("température 38,2", "A03"),
    ("T° 39", "A03"),
])
def test_a_value_past_its_threshold_names_the_problem(text: str, code: str) -> None:
    found = finding(text)
    assert found is not None and found.code == code


@pytest.mark.parametrize("text", ["IMC 22", "HbA1c 5,6 %", "hba1c 40 mmol/mol", "T° 37,4",
                                  "IMC 3", "HbA1c 65", "t 4 semaines", "bilan"])
def test_normal_or_implausible_values_name_nothing(text: str) -> None:
    assert finding(text) is None


def test_the_coder_reads_the_value_in_reasons_and_results_only() -> None:
    coder = Coder(min_confidence=0.5)
    result = coder.code("IMC 34", "resultat")
    assert result.code == "T82"
    assert "IMC 34 ≥ 30" in result.explanation
    assert coder.code("HbA1c 7,4 %", "motif").code == "T90"
    assert coder.code("IMC 34", "procedure").code == "T31"   # the act is the measurement
    assert coder.code("HTA, IMC 34", "resultat").code == "K86"  # a named problem comes first
