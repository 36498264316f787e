"""The browser check of the built book (helpers.ops.bookcheck) on hand-made pages."""

import pytest

from helpers.ops import bookcheck

GOOD = """<html><head><script src="_static/x.js"></script></head><body>
<h1 id="top">Title</h1><p>Accuracy <span class="math notranslate">\\(A^x\\)</span> is 91 %.</p>
<div class="highlight"><pre>print(f"$A_{avr}$ costs $5", np.nan)</pre></div>
<p>A negative variance makes the output NaN; a :::{table} fence opens a table.</p>
<a href="other.html#sec">next</a> <a href="#top">up</a> <a href="https://example.org/x">ext</a>
<img src="_images/fig.png"></body></html>"""
OTHER = '<html><body><h2 id="sec">Section</h2><p>fine</p></body></html>'


def _book(tmp_path, index=GOOD):
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "x.js").write_text("")
    (tmp_path / "_images").mkdir()
    (tmp_path / "_images" / "fig.png").write_bytes(b"")
    (tmp_path / "index.html").write_text(index)
    (tmp_path / "other.html").write_text(OTHER)
    return tmp_path


def test_a_clean_book_passes(tmp_path):
    assert bookcheck.check(_book(tmp_path)) == {}


@pytest.mark.parametrize("snippet, kind", [
    ("<pre>Traceback (most recent call last):\n  File x\nValueError: bad</pre>", "traceback"),
    ("<div class='output stderr'><pre>I0000 00:00:1795 port.cc:153] oneDNN custom operations "
     "are on</pre></div>", "log line"),
    ("<pre>/x/tqdm/auto.py:21: TqdmWarning: IProgress not found</pre>", "warning"),
    ("<pre>train:  47%|####      | 731/1563</pre>", "progress bar"),
    ("<pre>data_dir = \"/work/shared/data/cifar10-jpeg.npz\"</pre>", "machine path"),
    ("<p>mean $A_{avr}$ ranges from 80 %</p>", "raw maths"),
    ("<p>:::{table} Caption\n:name: tbl-x</p>", "unparsed directive"),
    ("<table>\n<tr>\n<td>claim 5</td>\n<td>nan</td>\n</tr>\n</table>", "undefined value"),
    ('<a href="missing.html">x</a>', "no file"),
    ('<a href="other.html#nowhere">x</a>', "no id 'nowhere'"),
    ('<img src="_images/gone.png">', "no file"),
])
def test_each_problem_is_found(tmp_path, snippet, kind):
    problems = bookcheck.check(_book(tmp_path, GOOD.replace("</body>", snippet + "</body>")))
    assert list(problems) == ["index.html"]
    assert any(kind in m for m in problems["index.html"]), problems


def test_an_empty_folder_fails(tmp_path):
    assert bookcheck.check(tmp_path)
    assert bookcheck.main([str(tmp_path)]) == 1


@pytest.mark.skipif(bookcheck.find_browser() is None, reason="no Chromium on this machine")
def test_the_browser_sees_unrendered_maths(tmp_path):
    """A page with maths but no MathJax script: the browser finds no rendered maths."""
    book = _book(tmp_path)
    problems = bookcheck.check(book, bookcheck.find_browser(), tmp_path / "shots")
    assert "maths not rendered (no MathJax output)" in problems["index.html"]
    assert (tmp_path / "shots" / "index.png").exists()


@pytest.mark.skipif(bookcheck.find_browser() is None, reason="no Chromium on this machine")
def test_the_browser_reports_a_javascript_error(tmp_path):
    book = _book(tmp_path, GOOD.replace("</body>", "<script>undefinedFunction();</script></body>"))
    problems = bookcheck.check(book, bookcheck.find_browser())
    assert any(m.startswith("JavaScript error") and "undefinedFunction" in m
               for m in problems["index.html"]), problems
