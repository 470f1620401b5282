"""plotly.js from the installed `plotly` wheel, and its stylesheet as a file.

plotly.js injects its CSS rules through `<style>` elements it creates, which our
Content-Security-Policy (`style-src 'self'`) blocks:

* its own rules: plotly.js skips the injection when an element with id `plotly.js-style-global`
  and class `no-inline-styles` exists; the pages carry a `<link>` with that id to
  `/static/vendor/plotly.css`, which this module extracts from the rule table in plotly.min.js;
* bundled libraries' stylesheets (maplibre) are injected unless an element with their id exists;
  the pages carry a `<link>` with that id to `/static/vendor/inline/<id>.css`, their text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import plotly

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
#: The loop of plotly.js that expands its rule table: `for(K in T)S=K.replace(...X...)...`.
_RULE_LOOP = re.compile(r'for\((\w+) in (\w+)\)\w+=\1\.replace\(/\^,/," ,"\)'
                        r'\.replace\(/X/g,"([^"]+)"\)\.replace\(/Y/g,"([^"]+)"\)')
_ENTRY = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(\w+))\s*:\s*(?:"((?:[^"\\]|\\.)*)"'
                    r"|'((?:[^'\\]|\\.)*)')\s*,?")


#: `if(!document.getElementById(ID)){var e=document.createElement("style");e.id=ID,
#: e.textContent='CSS'`: a bundled library's stylesheet injected at load time.
_INLINE_STYLE = re.compile(r'getElementById\("([0-9a-f]{64})"\)\)\{var (\w+)=document\.'
                           r'createElement\("style"\);\2\.id="\1",\2\.textContent=\'((?:[^\'\\]|'
                           r'\\.)*)\'')


class VendorError(RuntimeError):
    pass


@lru_cache(maxsize=1)
def plotly_css() -> str:
    """plotly.js's own CSS rules as a stylesheet."""
    js = PLOTLY_JS.read_text(encoding="utf-8")
    loop = _RULE_LOOP.search(js)
    if loop is None:
        raise VendorError(f"rule table not found in {PLOTLY_JS} (plotly.js changed?)")
    table, x, y = loop[2], loop[3], loop[4]
    start = js.rfind(f"{table}={{", 0, loop.start())
    if start < 0:
        raise VendorError(f"rule table {table} not found in {PLOTLY_JS}")
    pos, rules = start + len(table) + 2, []
    while js[pos] != "}":
        m = _ENTRY.match(js, pos)
        if m is None:
            raise VendorError(f"unexpected text in plotly.js rule table at {pos}")
        selector = (m[1] if m[1] is not None else m[2]).replace("\\\"", '"')
        body = m[3] if m[3] is not None else m[4]
        selector = re.sub(r"^,", " ,", selector).replace("X", x).replace("Y", y)
        rules.append(f"{selector}{{{body}}}")
        pos = m.end()
    return "\n".join(rules) + "\n"


@lru_cache(maxsize=1)
def inline_styles() -> dict[str, str]:
    """Stylesheets plotly.js would inject as `<style id=…>`, by id."""
    js = PLOTLY_JS.read_text(encoding="utf-8")
    return {m[1]: m[3].replace("\\'", "'") for m in _INLINE_STYLE.finditer(js)}
