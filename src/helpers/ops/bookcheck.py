"""The browser check of the built book: every page opened, nothing a reader should not see.

``python -m helpers.ops.bookcheck book/_build/html [--browser chromium] [--screenshots DIR]``

For every page of the built HTML it fails on
- a rendered traceback, log line, warning or progress bar (``FORBIDDEN``), or a
  machine path, in the page's visible text;
- maths left as raw ``$...$``, a MyST directive left unparsed, or a value printed as
  ``nan``, outside code;
- a broken internal link: a missing file, or a ``#fragment`` that is no ``id``
  of its target page (links to other sites are not followed);
- maths written as plain text in the prose or a table header: ``A^x``, ``A_avr``,
  ``|B|``, a Greek letter spelt out (``rho``, ``alpha^2 C/|B|``, ``eta = 0.3``);
- a figure whose axes say nothing: the book's figures carry a description of their
  axes in the PNG (``plots.AXES_KEY``, written by ``plots.show``), judged by
  ``plots.axis_problems`` (one x value on a continuous axis, a log axis over more
  than ``plots.MAX_DECADES`` decades, more than ``plots.MAX_LINES`` lines without a
  summary); a figure made otherwise cannot be judged from its pixels and is not;
and, with ``--browser``, opens each page with headless Chromium and fails when
the page's maths did not render (no MathJax output, or a MathJax error), the
browser reports an uncaught JavaScript error, or the rendered page measures wrong:
a table wider than the text column (its width against the column's, after the maths
rendered), or a printed output line cut off (an output ``<pre>`` whose content is
wider than its box). Screenshots go to ``--screenshots`` (never into the repository).
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# What a reader must never see in a page: (name, pattern on the visible text).
FORBIDDEN = [
    ("traceback", re.compile(r"Traceback \(most recent call last\)|^\s*\w+(Error|Exception): ",
                             re.M)),
    ("log line", re.compile(r"\bI0000 |\babsl::|oneDNN custom operations|"
                            r"^\s*(WARNING|ERROR|INFO)[: ]", re.M)),
    ("warning", re.compile(r"\b\w*Warning: ")),
    ("progress bar", re.compile(r"\d+%\|")),
    ("machine path", re.compile(r"(/work/|/home/|/root/|/tmp/|\.venv/|site-packages)")),
]
RAW_MATH = re.compile(r"(?<![\\\w$])\$[^$\s][^$\n]{0,80}?\$(?!\w)")
# In the prose (code apart): a MyST directive printed instead of parsed (e.g. a table
# whose fence is malformed), and a missing value printed as "nan" instead of a dash.
PROSE = [("unparsed directive", re.compile(r"(?:^|\n)\s*(?::::|```)\{[\w-]+\}")),
         ("undefined value", re.compile(r"(?<![\w.])nan(?![\w(])"))]
# Maths a reader should see typeset but finds spelt out in plain text (prose and table
# headers; code and rendered maths apart): a superscript or subscript written with ^ or
# _ (A^x, alpha^2, A_avr, a_0, sigma_w), a norm |B|, or a Greek letter's name.
GREEK = ("alpha|beta|gamma|delta|epsilon|zeta|eta|theta|kappa|lambda|mu|nu|xi|pi|rho|"
         "sigma|tau|phi|chi|psi|omega")
RAW_SYMBOLS = re.compile(r"\b\w{1,6}\^[\w{(.\-]|\b[A-Za-z]{1,5}_\{?[A-Za-z0-9]{1,4}\b"
                         r"|\|[A-Za-z]\||\b(?:" + GREEK + r")\b", re.I)
REDIRECT = re.compile(r'<meta[^>]+http-equiv="refresh"', re.I)
AXES_KEY = "helpers-axes"   # = helpers.book.plots.AXES_KEY (tests/test_bookcheck.py)
SKIP_PAGES = {"genindex.html", "search.html"}
# JavaScript errors of the theme itself, harmless to a reader: Jupyter Book 1 loads
# sphinx-thebe's configuration script twice on every page (the live-code button is off).
# The browser window the layout is measured in: a desktop screen, where the theme
# shows its widest text column.
WINDOW = (1280, 2400)
KNOWN_JS_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)


class _Page(HTMLParser):
    """Visible text (code and scripts apart), ids, links, and maths of one page."""

    HIDDEN = {"script", "style", "template"}
    CODE = {"pre", "code"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.prose, self.ids, self.links = [], [], set(), []
        self.math = 0
        self._stack = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        for attr in ("href", "src"):
            if a.get(attr) and tag in ("a", "img", "script", "link"):
                self.links.append(a[attr])
        classes = (a.get("class") or "").split()
        if "math" in classes:
            self.math += 1
        if tag not in ("br", "img", "meta", "link", "input", "hr", "col", "source", "wbr"):
            flag = ("hidden" if tag in self.HIDDEN else
                    "code" if tag in self.CODE or "highlight" in " ".join(classes)
                    or "math" in classes else "")
            self._stack.append(flag)

    def handle_endtag(self, tag):
        if self._stack and tag not in ("br", "img", "meta", "link", "input", "hr"):
            self._stack.pop()

    def handle_data(self, data):
        if "hidden" in self._stack:
            return
        self.text.append(data)
        if "code" not in self._stack:
            self.prose.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def pages(root: Path) -> list[Path]:
    """The book's pages (the search and index pages and build reports apart)."""
    return sorted(p for p in root.rglob("*.html")
                  if p.name not in SKIP_PAGES and "_static" not in p.parts
                  and "reports" not in p.relative_to(root).parts
                  and "_sources" not in p.parts)


def text_problems(page: _Page) -> list[str]:
    text = "".join(page.text)
    out = [f"{name}: {m.group(0).strip()[:80]!r}"
           for name, pattern in FORBIDDEN for m in [pattern.search(text)] if m]
    prose = "".join(page.prose)
    m = RAW_MATH.search(prose)
    if m:
        out.append(f"raw maths: {m.group(0)!r}")
    # (text nodes apart: a header cell ends a word)
    symbols = sorted({m.group(0) for m in RAW_SYMBOLS.finditer(" ".join(page.prose))})
    if symbols:
        out.append(f"maths as plain text: {', '.join(map(repr, symbols[:8]))}"
                   + (f" and {len(symbols) - 8} more" if len(symbols) > 8 else ""))
    out += [f"{name}: {m.group(0).strip()[:80]!r}"
            for name, pattern in PROSE for m in [pattern.search(prose)] if m]
    return out


def link_problems(root: Path, path: Path, page: _Page, cache: dict) -> list[str]:
    out = []
    for link in page.links:
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:", "javascript:")):
            continue
        target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            out.append(f"broken link {link!r} (no file)")
            continue
        if parts.fragment and target.suffix == ".html":
            if target not in cache:
                cache[target] = parse(target)
            if unquote(parts.fragment) not in cache[target].ids:
                out.append(f"broken link {link!r} (no id {parts.fragment!r})")
    return out


def png_text(path: Path) -> dict[str, str]:
    """The text chunks (tEXt, iTXt without compression) of a PNG file; {} for another file."""
    data = path.read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return {}
    out, i = {}, 8
    while i + 8 <= len(data):
        n, kind = int.from_bytes(data[i:i + 4], "big"), data[i + 4:i + 8]
        body = data[i + 8:i + 8 + n]
        if kind == b"tEXt" and b"\0" in body:
            k, v = body.split(b"\0", 1)
            out[k.decode("latin-1")] = v.decode("latin-1")
        elif kind == b"iTXt" and b"\0" in body:
            k, rest = body.split(b"\0", 1)
            if rest[:1] == b"\0":   # not compressed: flag, method, language\0, key\0, text
                out[k.decode("latin-1")] = rest[2:].split(b"\0", 2)[-1].decode("utf-8")
        elif kind == b"IEND":
            break
        i += 12 + n
    return out


def figure_problems(path: Path, page: _Page) -> list[str]:
    """The axes of every PNG figure of the page that describes them (``plots.AXES_KEY``),
    judged by ``plots.axis_problems``."""
    out, seen = [], set()
    for link in page.links:
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or not parts.path.lower().endswith(".png"):
            continue
        target = (path.parent / unquote(parts.path)).resolve()
        if target in seen or not target.is_file():
            continue
        seen.add(target)
        described = png_text(target).get(AXES_KEY)
        if described is None:
            continue
        from ..book import plots   # (matplotlib: only for a page with described figures)

        try:
            axes = json.loads(described)
        except ValueError:
            out.append(f"figure {parts.path}: its axes description is not JSON")
            continue
        out += [f"figure {Path(parts.path).name}: {p}" for p in plots.axis_problems(axes)]
    return out


# Run in the page once it has loaded and its maths rendered: what overflows. The result
# goes into an attribute of <body>, which --dump-dom prints.
MEASURE_JS = """<script>(function () {
  function column(el) {
    return el.closest('.bd-article') || el.closest('article') || el.closest('main')
      || document.body;
  }
  function inner(el) {
    var s = getComputedStyle(el);
    return el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
  }
  function measure() {
    var out = [];
    document.querySelectorAll('table').forEach(function (t) {
      if (t.closest('.highlight, mjx-' + 'container') || !t.getClientRects().length) return;
      var w = Math.max(t.scrollWidth, t.getBoundingClientRect().width), c = inner(column(t));
      if (w > c + 1) {
        var cap = t.querySelector('caption'), text = '';
        if (cap) {   // the caption's maths as its TeX source, not as MathJax's glyphs
          cap = cap.cloneNode(true);
          cap.querySelectorAll('mjx-' + 'container').forEach(function (m) {
            var tex = m.querySelector('[data-semantic-speech], mjx-assistive-mml');
            m.replaceWith(tex ? tex.textContent : '');
          });
          text = cap.textContent;
        }
        out.push({kind: 'table', caption: text, width: Math.round(w),
                  column: Math.round(c)});
      }
    });
    document.querySelectorAll('.cell_output pre, div.output pre').forEach(function (p) {
      if (!p.getClientRects().length) return;
      if (p.scrollWidth > p.clientWidth + 1) {
        var lines = p.innerText.split('\\n'), longest = '';
        lines.forEach(function (l) { if (l.length > longest.length) longest = l; });
        out.push({kind: 'output', line: longest, width: p.scrollWidth, box: p.clientWidth});
      }
    });
    document.body.setAttribute('data-bookcheck', JSON.stringify(out));
  }
  window.addEventListener('load', function () {
    var ready = (window.MathJax && MathJax.startup && MathJax.startup.promise)
      || Promise.resolve();
    ready.then(function () { return document.fonts ? document.fonts.ready : null; })
      .then(function () { setTimeout(measure, 500); }, function () { setTimeout(measure, 500); });
  });
})();</script>"""


def layout_problems(dom: str) -> list[str]:
    """The measurements ``MEASURE_JS`` left in the dumped page, as messages."""
    m = re.search(r'data-bookcheck="([^"]*)"', dom)
    if m is None:
        return ["the page's layout could not be measured (the measuring script did not run)"]
    out = []
    for item in json.loads(html.unescape(m.group(1))):
        if item["kind"] == "table":
            name = " ".join(item["caption"].split())[:70] or "a table without a caption"
            out.append(f"table wider than the text column: {name!r} is {item['width']} px "
                       f"in a {item['column']} px column")
        else:
            out.append(f"printed output cut off: {item['line'].strip()[:70]!r} needs "
                       f"{item['width']} px in a {item['box']} px box")
    return out


def find_browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def browser_problems(browser: str, path: Path, has_math: bool,
                     screenshot: Path | None = None) -> list[str]:
    """Open ``path`` in headless Chromium; check the maths rendered and measure the
    layout (``MEASURE_JS``, run from a copy of the page beside it, removed after)."""
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--virtual-time-budget=8000", f"--window-size={WINDOW[0]},{WINDOW[1]}",
             "--enable-logging=stderr", "--v=0"]
    text = path.read_text(encoding="utf-8")
    # (the script spells no MathJax tag whole, so that the DOM check below cannot see it)
    probe = path.with_name(f".bookcheck-{path.name}")
    at = text.rfind("</body>")
    probe.write_text(text[:at] + MEASURE_JS + text[at:] if at >= 0 else text + MEASURE_JS,
                     encoding="utf-8")
    try:
        proc = subprocess.run(flags + ["--dump-dom", probe.as_uri()], capture_output=True,
                              text=True, timeout=120)
    finally:
        probe.unlink(missing_ok=True)
    out = []
    if proc.returncode != 0 or "<body" not in proc.stdout:
        return [f"the browser could not open the page (exit {proc.returncode})"]
    dom = proc.stdout
    if has_math and "mjx-container" not in dom:
        out.append("maths not rendered (no MathJax output)")
    if "<mjx-merror" in dom:
        out.append("MathJax error in the page")
    for line in proc.stderr.splitlines():
        if "Uncaught" in line and "CONSOLE" in line \
                and not any(known in line for known in KNOWN_JS_ERRORS):
            out.append(f"JavaScript error: {line.strip()[:160]}")
    if not REDIRECT.search(text):   # a redirect (index.html) is measured where it leads
        out += layout_problems(dom)
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(flags + [f"--screenshot={screenshot}", path.as_uri()],
                       capture_output=True, timeout=120)
    return out


def check(root: Path, browser: str | None = None, screenshots: Path | None = None) -> dict:
    """Problems per page (relative path -> list of messages; only pages with problems)."""
    root = root.resolve()
    problems, cache = {}, {}
    found = pages(root)
    if not found:
        return {"(book)": [f"no HTML page under {root}"]}
    for path in found:
        page = cache.setdefault(path, parse(path))
        msgs = (text_problems(page) + link_problems(root, path, page, cache)
                + figure_problems(path, page))
        if browser:
            shot = None
            if screenshots is not None:
                shot = screenshots / (str(path.relative_to(root)).replace("/", "_")
                                      .removesuffix(".html") + ".png")
            msgs += browser_problems(browser, path, page.math > 0, shot)
        if msgs:
            problems[str(path.relative_to(root))] = msgs
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path, help="the built book, e.g. book/_build/html")
    ap.add_argument("--browser", nargs="?", const="auto",
                    help="open every page in headless Chromium (path, or auto)")
    ap.add_argument("--screenshots", type=Path, help="folder for one PNG per page")
    a = ap.parse_args(argv)
    browser = None
    if a.browser:
        browser = find_browser() if a.browser == "auto" else a.browser
        if browser is None:
            print("no Chromium found (apt-get install chromium)", file=sys.stderr)
            return 2
    problems = check(a.html, browser, a.screenshots)
    n = len(pages(a.html.resolve()))
    for page, msgs in problems.items():
        for m in msgs:
            print(f"{page}: {m}")
    print(f"[bookcheck] {n} pages, {len(problems)} with problems, "
          f"{sum(map(len, problems.values()))} problems in all"
          + (f", opened in {browser}" if browser else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
