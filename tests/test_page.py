"""helpers.book.page: where a study's retrained models are found, and which record of a
retrained run a page reads."""

import pandas as pd

from helpers.book import page


def test_the_retrain_folder_is_found_beside_the_study_or_where_given(tmp_path):
    study = tmp_path / "cpu"
    study.mkdir()
    assert page.retrain_folder(study) is None                  # none beside it yet
    (tmp_path / "cpu-retrain").mkdir()
    assert page.retrain_folder(study) == tmp_path / "cpu-retrain"
    assert page.retrain_folder(study, None) is None and page.retrain_folder(study, "") is None
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert page.retrain_folder(study, str(other)) == other
    assert page.retrained_records(study, str(tmp_path / "missing")).empty


def test_a_retrained_run_replaces_its_study_record_by_key_and_nothing_else():
    records = pd.DataFrame({"key": ["a", "b", "c"], "path": ["cpu/a", "cpu/b", "cpu/c"]})
    retrained = pd.DataFrame({"key": ["b"], "path": ["cpu-retrain/b"]})
    out = page.prefer_retrained(records, retrained).set_index("key")["path"].to_dict()
    assert out == {"a": "cpu/a", "b": "cpu-retrain/b", "c": "cpu/c"}
    assert page.prefer_retrained(records, pd.DataFrame()).equals(records)
