"""Suite-wide test settings."""

import os

# Rich renders tables to the terminal's width, and 80 columns when there is none (CI, pytest):
# wide enough that command outputs checked by tests are not folded mid-word.
os.environ.setdefault("COLUMNS", "200")
