"""Maths that the study layer writes as plain text (``A_avr``, ``rho``, ``alpha^2 C/|B|``),
typeset for a page as the book writes it elsewhere: MyST ``$...$`` maths (MathJax).

``typeset(text)`` rewrites the known plain forms outside existing ``$...$`` maths and
`` `code` ``; a text without them comes back unchanged. No ``|`` is written (``\\lvert``
instead), so that a typeset cell cannot end a Markdown table's cell.
"""

from __future__ import annotations

import re

# (plain form, typeset form), tried in this order: the longer forms first
RULES = [
    (r"\(a\^x\s*-\s*1/K\)\s*/\s*\(a0\s*-\s*1/K\)", r"$(a^x - 1/K)/(a_0 - 1/K)$"),
    (r"alpha\^2\s*C\s*/\s*\|B\|", r"$\\alpha^2 C/\\lvert B\\rvert$"),
    (r"\|\|?grad L_D\|\|?\^2", r"$\\lVert\\nabla L_D\\rVert^2$"),
    (r"\(n\s*-\s*\|B\|\)\s*/\s*\(\|B\|\s*\(n\s*-\s*1\)\)",
     r"$(n - \\lvert B\\rvert)/(\\lvert B\\rvert (n - 1))$"),
    (r"(?<![\w$])1/\|B\|", r"$1/\\lvert B\\rvert$"),
    (r"\|B\|", r"$\\lvert B\\rvert$"),
    (r"\bA_avr\b", r"$A_{avr}$"),
    (r"\bA\^(\d+(?:\.\d+)?)(?![\w.])", r"$A^{\1}$"),
    (r"\bA\^x\b", r"$A^x$"),
    (r"\bA_x\b", r"$A^x$"),
    (r"\ba_x\b", r"$a^x$"),
    (r"(?<![\w$])a\^x\b", r"$a^x$"),
    (r"\ba0\b", r"$a_0$"),
    (r"\bsigma_w\b", r"$\\sigma_w$"),
    (r"\brho\b", r"$\\rho$"),
    (r"\balpha\b", r"$\\alpha$"),
    (r"\beta\b", r"$\\eta$"),
]
_RULES = [(re.compile(p), r) for p, r in RULES]
# what is left alone: maths already typeset, code spans, links' targets
_KEEP = re.compile(r"(\$[^$]+\$|`[^`]*`|\]\([^)]*\))")


def typeset(text: str) -> str:
    """``text`` with its plain-text maths typeset (``RULES``), outside maths and code."""
    if not isinstance(text, str):
        return text
    for pattern, replacement in _RULES:   # split again after each: new maths is kept
        parts = _KEEP.split(text)
        parts[::2] = [pattern.sub(replacement, part) for part in parts[::2]]
        text = "".join(parts)
    return text


def Markdown(text: str):  # noqa: N802  (a drop-in for IPython.display.Markdown)
    """IPython's ``Markdown`` of ``text`` with its plain-text maths typeset: what a page
    displays from a helper's sentence."""
    from IPython.display import Markdown as _Markdown

    return _Markdown(typeset(text))
