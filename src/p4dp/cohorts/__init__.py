"""Patient identification: cohort criteria, their compiler to Ibis, attrition, feasibility counts
for researchers (disclosure-controlled) and recruitment lists returned only to each patient's GP.

    from p4dp.cohorts import load, feasibility, recruitment_list

`criteria` holds the definition model and its JSON form; `compile` turns it into Ibis through the
portable helpers; `feasibility` protects the counts; `recruitment` lists a GP's own matching
patients; `commands` is the `p4dp cohort` CLI.
"""

from p4dp.cohorts.compile import CohortError
from p4dp.cohorts.criteria import Cohort, CriteriaError, json_schema, load, parse
from p4dp.cohorts.feasibility import Answer, data_version, feasibility, noise_key
from p4dp.cohorts.recruitment import recruitment_list

__all__ = ["Answer", "Cohort", "CohortError", "CriteriaError", "data_version", "feasibility",
           "json_schema", "load", "noise_key", "parse", "recruitment_list"]
