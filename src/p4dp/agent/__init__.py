"""The collection agent, run at the practice: export → pseudonymised, scrubbed bundle.

Public entry points: :func:`prepare` (read a vendor export and bundle it), :func:`prepare_tables`
(bundle staging tables already read), :func:`run` (every practice of a ``network.json``),
:func:`read_bundle` (verify and read a bundle, central side)
and :func:`reidentify` (pseudonym → local id, at the practice only).
"""

from p4dp.agent.bundle import BundleError, read_bundle, write_bundle
from p4dp.agent.keys import load_keys
from p4dp.agent.local import reidentify
from p4dp.agent.prepare import PrepareError, prepare, prepare_tables
from p4dp.agent.run import run

__all__ = ["BundleError", "PrepareError", "load_keys", "prepare", "prepare_tables", "read_bundle",
           "reidentify", "run", "write_bundle"]
