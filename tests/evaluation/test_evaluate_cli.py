"""`culturesim evaluate` and `culturesim survey make` through the real CLI entry point."""

from __future__ import annotations

import pytest
from opinion_fixture import write_opinions

from simulator.cli import main


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_shows_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["evaluate", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "culturesim evaluate --suite wvs" in out and "culturesim evaluate --suite opinions" in out


def test_survey_make_with_a_built_in_culture(tmp_path, capsys):
    code, out, _ = run_cli(
        capsys, "survey", "make", "--culture", "japanese", "--respondents", "5", "--out", str(tmp_path / "jp")
    )
    assert code == 0 and "5 synthetic Japanese respondents" in out
    assert len((tmp_path / "jp/full/full_value_qa.tsv").read_text().splitlines()) == 6


def test_unknown_culture_is_bad_input(tmp_path, capsys):
    code, _, err = run_cli(capsys, "survey", "make", "--culture", "atlantean", "--out", str(tmp_path / "x"))
    assert code == 2 and "unknown culture 'atlantean'" in err


def test_unknown_question_ids(survey_dir, culture_file, tmp_path, capsys):
    code, _, err = run_cli(
        capsys,
        "evaluate",
        "--suite",
        "wvs",
        "--data",
        str(survey_dir),
        "--culture",
        str(culture_file),
        "--questions",
        "CS01,Q999",
        "--out",
        str(tmp_path / "out"),
    )
    assert code == 2
    assert "--questions" in err and "unknown value question id(s) Q999" in err and "CS01" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_ragged_tsv_row_names_file_and_line(survey_dir, culture_file, tmp_path, capsys):
    table = survey_dir / "full/full_value_qa.tsv"
    lines = table.read_text().splitlines()
    lines[4] = lines[4].rsplit("\t", 1)[0]  # line 5 loses its last column
    table.write_text("\n".join(lines) + "\n")
    code, _, err = run_cli(
        capsys,
        "evaluate",
        "--suite",
        "wvs",
        "--data",
        str(survey_dir),
        "--culture",
        str(culture_file),
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2 and "full_value_qa.tsv: line 5: expected 11 columns, found 10" in err


def test_non_numeric_answer_names_line_and_column(survey_dir, culture_file, tmp_path, capsys):
    table = survey_dir / "full/full_value_qa.tsv"
    lines = table.read_text().splitlines()
    cells = lines[2].split("\t")
    cells[2] = "agree"
    lines[2] = "\t".join(cells)
    table.write_text("\n".join(lines) + "\n")
    code, _, err = run_cli(
        capsys,
        "evaluate",
        "--suite",
        "wvs",
        "--data",
        str(survey_dir),
        "--culture",
        str(culture_file),
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2 and "line 3, column 'CS02': 'agree' is not a numeric answer" in err


def test_culture_country_missing_from_survey(survey_dir, tmp_path, capsys):
    from eval_fakes import make_culture

    other = tmp_path / "narnia.json"
    other.write_text(make_culture("narnia", "Narnia").model_dump_json())
    code, _, err = run_cli(
        capsys,
        "evaluate",
        "--suite",
        "wvs",
        "--data",
        str(survey_dir),
        "--culture",
        str(other),
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2 and "no data for country 'Narnia'" in err and "Testland" in err


def test_opinions_country_missing_lists_close_matches(tmp_path, capsys):
    data = write_opinions(tmp_path / "eval.json")
    code, _, err = run_cli(
        capsys,
        "evaluate",
        "--suite",
        "opinions",
        "--data",
        str(data),
        "--country",
        "Testlnd",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2 and "no data for country 'Testlnd'; close matches: Testland" in err


def test_adapter_configuration_needs_an_adapter(survey_dir, culture_file, tmp_path, capsys):
    code, _, err = run_cli(
        capsys,
        "evaluate",
        "--suite",
        "wvs",
        "--data",
        str(survey_dir),
        "--culture",
        str(culture_file),
        "--configs",
        "base,adapter",
        "--out",
        str(tmp_path / "o"),
    )
    assert code == 2 and "configuration 'adapter' needs --adapter PATH" in err


def test_wvs_needs_a_culture(survey_dir, tmp_path, capsys):
    code, _, err = run_cli(
        capsys, "evaluate", "--suite", "wvs", "--data", str(survey_dir), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "--culture is required" in err
