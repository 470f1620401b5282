"""P4DP — Platform for Data in Primary care."""

__version__ = "0.1.0"
