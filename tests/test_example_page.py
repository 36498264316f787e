"""The example-run page made from a grid-executed training notebook (helpers.book.example_page)."""

import json

import nbformat

from helpers.book import example_page


def _executed(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"input_path": "/home/me/repo/notebooks/train.ipynb",
                                "output_path": "/home/me/out/k.out.ipynb",
                                "parameters": {"data_dir": "/home/me/data/cifar10.npz", "lr": 0.001}}
    params = nbformat.v4.new_code_cell("lr = 0.001", metadata={"tags": ["parameters"]})
    injected = nbformat.v4.new_code_cell('data_dir = "/home/me/data/cifar10.npz"',
                                         metadata={"tags": ["injected-parameters"]})
    work = nbformat.v4.new_code_cell("print('a0')")
    work.outputs = [nbformat.v4.new_output("stream", name="stderr", text="I0000 oneDNN ...\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="a0 = 84.05 %\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Training"), params, injected, work]
    path = tmp_path / "k.out.ipynb"
    nbformat.write(nb, path)
    return path


RECORD = {"key": "k", "config": {"depth": 20, "optimizer": "adam", "lr": 0.001, "batch_size": 32,
                                 "seed": 0, "profile": "cpu", "epochs": 20, "n_repeats": 10,
                                 "noise_test_samples": 2000},
          "data": {"label": "CIFAR-10 (JPEG copy)"},
          "environment": {"keras_backend": "tensorflow", "device": "CPU: AMD EPYC (2 cores)",
                          "git": {"commit": "823e4d8d38"}},
          "history": [{"test_accuracy": 0.8405}], "timings": {"train_seconds": 3100.0}}


def test_page_hides_parameters_paths_and_stderr_and_names_the_run(tmp_path):
    out = example_page.make_page(_executed(tmp_path), tmp_path / "page.ipynb", RECORD)
    nb = nbformat.read(out, as_version=4)
    text = json.dumps(nb)
    assert "/home/me" not in text and "cifar10.npz" in text
    tags = [set(c.metadata.get("tags", [])) for c in nb.cells]
    assert "remove-cell" in tags[2] and "remove-cell" in tags[3]     # parameter cells
    assert "hide-input" in tags[4]
    assert [o["name"] for o in nb.cells[4].outputs] == ["stdout"]      # stderr dropped
    note = nb.cells[1].source
    assert "84.05 %" in note and "2000 test images" in note and "`823e4d8d`" in note
    assert "results/cpu/k.json" in note and "52 min of training" in note


def test_the_note_says_one_seed_beside_the_papers_run_is_no_test_and_is_replaced_when_made_again(tmp_path):
    """A cpu run (20 epochs, one seed) ends with its A_avr beside the paper's Table III: the
    note says that is no test. Made again from the page itself (to refresh the note), the
    page keeps one note, the new one; a run of the paper's length gets no such sentence."""
    page = example_page.make_page(_executed(tmp_path), tmp_path / "page.ipynb", RECORD)
    note = nbformat.read(page, as_version=4).cells[1].source
    assert ("one training seed of 20 epochs against the paper's one run of 200, which is no "
            "test of the paper") in note
    full = {**RECORD, "config": {**RECORD["config"], "epochs": 200, "profile": "paper"}}
    again = example_page.make_page(page, tmp_path / "again.ipynb", full)
    cells = nbformat.read(again, as_version=4).cells
    notes = [c for c in cells if c.source.startswith(example_page.NOTE_HEAD)]
    assert len(notes) == 1 and "no test" not in notes[0].source and "results/paper/k.json" in notes[0].source
    assert len(cells) == len(nbformat.read(page, as_version=4).cells)


def test_a_resumed_run_of_another_folder_names_its_record_and_says_it_was_resumed(tmp_path):
    """A `long` run lives in results/cpu-long/, not results/<profile>/; one resumed from its
    checkpoint shows only the last execution's outputs, which the note says."""
    long = {**RECORD, "config": {**RECORD["config"], "profile": "long", "epochs": 60},
            "history": [{"test_accuracy": 0.87}] * 60,
            "timings": {"train_seconds": 14400.0, "resumed_from_epoch": 38}}
    page = example_page.make_page(_executed(tmp_path), tmp_path / "page.ipynb", long,
                                  "results/cpu-long/k.json")
    note = nbformat.read(page, as_version=4).cells[1].source
    assert "Record: `results/cpu-long/k.json`" in note and "results/long/" not in note
    assert "240 min of training over all 60 epochs" in note
    assert "last resumed from its checkpoint after epoch 38" in note
    straight = example_page.make_page(_executed(tmp_path), tmp_path / "p2.ipynb", RECORD)
    assert "resumed" not in nbformat.read(straight, as_version=4).cells[1].source


def test_the_command_names_the_record_by_its_path_in_the_repository(tmp_path, monkeypatch):
    (tmp_path / "results/cpu-long").mkdir(parents=True)
    record = tmp_path / "results/cpu-long/k.json"
    record.write_text(json.dumps(RECORD))
    monkeypatch.chdir(tmp_path)
    assert example_page.main([str(_executed(tmp_path)), "page.ipynb",
                              "--record", str(record)]) == 0
    note = nbformat.read(tmp_path / "page.ipynb", as_version=4).cells[1].source
    assert "Record: `results/cpu-long/k.json`" in note
