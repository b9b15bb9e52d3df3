import json
import subprocess
import sys

import pytest

from recsys.cli import main


@pytest.fixture(scope="module")
def model_dir(small_model, tmp_path_factory):
    return small_model.save(tmp_path_factory.mktemp("cli") / "model")


def test_index_then_search_json(small_catalog_path, tmp_path, capsys):
    assert main(["index", str(small_catalog_path), "--out", str(tmp_path / "m"), "--quiet"]) == 0
    assert "indexed 14 titles" in capsys.readouterr().out
    assert main(["search", "--model", str(tmp_path / "m"), "alien creature on a spaceship", "-k", "3", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["results"][0]["id"] == "m1"
    assert set(result["results"][0]) == {"id", "title", "year", "genres", "score", "weight"}


def test_search_filters_and_plain_output(model_dir, capsys):
    assert (
        main(
            [
                "search",
                "--model",
                str(model_dir),
                "love",
                "--genre",
                "Romance",
                "--year-min",
                "1990",
                "--year-max",
                "1999",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and "The Quiet Orchard" in "".join(out) and "Laugh Track" in "".join(out)


def test_batch_search(model_dir, tmp_path, capsys):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"qid": "a", "query": "haunted house"}\n\n{"qid": 7, "query": "heist"}\n')
    assert main(["search", "--model", str(model_dir), "--batch", str(queries), "--json", "-k", "4"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["qid"] for line in lines] == ["a", 7]
    assert lines[0]["ranked"][0] == "m4" and lines[1]["ranked"][0] == "m12"
    assert len(lines[0]["ranked"]) == len(lines[0]["scores"]) == 4


def test_errors_are_one_line_with_exit_code_1(model_dir, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"qid": "a", "query": "x"}\nnot json\n')
    assert main(["search", "--model", str(model_dir), "--batch", str(bad), "--json"]) == 1
    assert capsys.readouterr().err.strip() == f'recsys: error: {bad}, line 2: expected {{"qid": ..., "query": ...}}'
    assert main(["index", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o")]) == 1
    assert "missing.csv: no such file" in capsys.readouterr().err
    assert main(["search", "--model", str(model_dir), "  "]) == 1
    assert "query is empty" in capsys.readouterr().err


def test_console_script_prints_only_json_on_stdout(model_dir):
    done = subprocess.run(
        [sys.executable, "-m", "recsys.cli", "search", "--model", str(model_dir), "war", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["results"][0]["id"] == "m9"


def test_train_then_eval(small_catalog_path, tmp_path, capsys):
    out = tmp_path / "trained"
    assert (
        main(["train", str(small_catalog_path), "--out", str(out), "--init", "none", "--epochs", "2", "--quiet"]) == 0
    )
    assert "serving the" in capsys.readouterr().out
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"qid": "h", "query": "horror", "relevant": ["m4"]}\n'
                       '{"qid": "w", "query": "gunfighters and gold", "relevant": ["m5"]}\n')  # fmt: skip
    assert main(["eval", "--model", str(out), "--queries", str(queries), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["queries"] == 2 and result["mrr@10"] == 1.0
