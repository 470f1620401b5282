"""Governance: who may see what. Accounts, roles and scopes, the audit chain, the operational store.

`governance` wraps analytics at the output boundary (DESIGN.md): no API route returns data without
passing through it.
"""
