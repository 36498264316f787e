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


@pytest.mark.parametrize("text, found", [
    ("<p>the share with A^x above 0.9</p>", "'A^x'"),
    ("<p>Spearman rho is +0.94</p>", "'rho'"),
    ("<p>the bound alpha^2 C/|B| rises</p>", "'alpha^2'"),
    ("<p>the bound alpha^2 C/|B| rises</p>", "'|B|'"),
    ("<table><tr><th>A_avr unbroken</th><th>eta = 0.3</th></tr></table>", "'A_avr'"),
    ("<table><tr><th>A_avr unbroken</th><th>eta = 0.3</th></tr></table>", "'eta'"),
])
def test_maths_spelt_out_in_prose_or_a_header_is_found(tmp_path, text, found):
    problems = bookcheck.check(_book(tmp_path, GOOD.replace("</body>", text + "</body>")))
    (msg,) = [m for m in problems["index.html"] if m.startswith("maths as plain text")]
    assert found in msg


def test_typeset_maths_and_code_are_not_plain_text_maths(tmp_path):
    page = GOOD.replace("</body>", '<p><span class="math notranslate">\\(\\rho\\)</span> and '
                        "\u03c1, \u03b7 = 0.3, |<i>B</i>| in <code>alpha^2 A_avr |B|</code>; "
                        "betaine, metadata, pitch, the lr-outside study</p></body>")
    assert bookcheck.check(_book(tmp_path, page)) == {}


def _figure_png(tmp_path, draw):
    import matplotlib
    matplotlib.use("Agg")
    from helpers.book import plots
    fig, ax = plots.plt.subplots()
    draw(ax)
    (tmp_path / "_images" / "fig.png").write_bytes(plots.png(fig))
    plots.plt.close(fig)


@pytest.mark.parametrize("draw, found", [
    (lambda ax: ax.errorbar([19, 19], [70, 80], yerr=[1, 1], fmt="o"), "one x value"),
    (lambda ax: (ax.plot([1, 2], [1e-4, 1e28]), ax.set_yscale("log")), "the y axis spans 35 decades"),
    (lambda ax: [ax.plot([1, 2, 3], [i, i + 1, i]) for i in range(27)], "27 overlapping lines"),
])
def test_a_figure_whose_axes_say_nothing_is_found(tmp_path, draw, found):
    book = _book(tmp_path)
    _figure_png(tmp_path, draw)
    problems = bookcheck.check(book)
    assert any(m.startswith("figure fig.png") and found in m for m in problems["index.html"]), \
        problems


@pytest.mark.parametrize("draw", [
    lambda ax: (ax.errorbar([0, 0.1], [70, 80], yerr=[1, 1], fmt="o"),
                ax.set_xticks([0, 0.1], ["with BN", "without BN"])),
    lambda ax: (ax.plot([1, 2], [1e-4, 1e3]), ax.set_yscale("log")),
    lambda ax: [ax.plot([1, 2, 3], [i, i + 1, i], gid="summary" if i == 0 else None)
                for i in range(27)],
])
def test_a_figure_with_meaningful_axes_passes(tmp_path, draw):
    book = _book(tmp_path)
    _figure_png(tmp_path, draw)
    assert bookcheck.check(book) == {}


WIDE = """<div class="bd-article" style="width: 500px; padding: 0 20px">
<div class="pst-scrollable-table-container" style="overflow-x: auto">
<table style="width: 900px"><caption><span class="caption-number">Table 4.2 </span>
<span class="caption-text">Broken draws per reading.</span></caption>
<tr><td>a</td><td>b</td></tr></table></div>
<div class="cell_output"><div class="output"><pre style="overflow-x: auto">short line
a printed line far too long for its box: {}</pre></div></div></div>"""
FIXED = """<div class="bd-article" style="width: 500px; padding: 0 20px">
<table style="width: 400px"><caption><span class="caption-number">Table 4.2 </span>
<span class="caption-text">Broken draws.</span></caption><tr><td>a</td></tr></table>
<div class="cell_output"><div class="output"><pre>short line\nanother short line</pre>
</div></div></div>"""


@pytest.mark.skipif(bookcheck.find_browser() is None, reason="no Chromium on this machine")
def test_the_browser_measures_a_wide_table_and_a_cut_off_output(tmp_path):
    page = GOOD.replace("</body>", WIDE.format("x" * 300) + "</body>")
    book = _book(tmp_path, page)
    msgs = bookcheck.check(book, bookcheck.find_browser())["index.html"]
    (table,) = [m for m in msgs if m.startswith("table wider than the text column")]
    assert "Table 4.2 Broken draws per reading." in table
    assert "is 900 px in a 500 px column" in table
    (cut,) = [m for m in msgs if m.startswith("printed output cut off")]
    assert "a printed line far too long" in cut
    assert not list(tmp_path.glob(".bookcheck-*"))   # the measuring copy is removed


@pytest.mark.skipif(bookcheck.find_browser() is None, reason="no Chromium on this machine")
def test_the_browser_finds_no_overflow_on_a_page_that_fits(tmp_path):
    page = GOOD.replace("</body>", FIXED + "</body>")
    msgs = bookcheck.check(_book(tmp_path, page), bookcheck.find_browser())["index.html"]
    assert not [m for m in msgs if "wider" in m or "cut off" in m or "measured" in m], msgs
    # (GOOD has maths without MathJax: that message stays)
    assert msgs == ["maths not rendered (no MathJax output)"]


def test_the_axes_key_is_the_plots_key():
    from helpers.book import plots
    assert bookcheck.AXES_KEY == plots.AXES_KEY
