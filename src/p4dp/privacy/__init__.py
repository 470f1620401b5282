"""Privacy at the practice and in the warehouse: keyed pseudonyms, free-text scrubbing.

Disclosure-control modules join this package later; import submodules directly
(`p4dp.privacy.pseudonym`, `p4dp.privacy.scrub`) so that this file stays free of imports.
"""
