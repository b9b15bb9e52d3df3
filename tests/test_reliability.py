"""Trying to break it: broken and hostile catalogs, any query text, tampered models, concurrent use."""

from __future__ import annotations

import io
import json
import pickle
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from recsys import CatalogError, ModelError, MovieSearch, QueryError, load_catalog
from recsys.cli import main

HEADER = "id,title,year,genres,description\n"
GOOD = "1,Alien,1979,Horror|Science Fiction,A crew meets a creature.\n"


def _csv(*rows: str) -> bytes:
    return (HEADER + "".join(rows)).encode()


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame({"id": ["1"], "title": ["Alien"], "description": ["A crew."]}).to_parquet(buffer)
    return buffer.getvalue()


LOADS, REFUSED = "loads", "refused"

# name: (file name, contents, expected). Loaded: (LOADS, titles, skipped rows, a note or field check);
# refused: (REFUSED, words the one-line error must contain).
BAD_CATALOGS = {
    "missing id column": ("a.csv", b"title,description\nAlien,A crew\n", (REFUSED, "no id column")),
    "missing description column": ("a.csv", b"id,title\n1,Alien\n2,Heat\n", (LOADS, 2, 0, "description: no column")),
    "no title or text column": ("a.csv", b"id,year\n1,1999\n", (REFUSED, "no title column")),
    "duplicate ids": ("a.csv", _csv(GOOD, GOOD), (REFUSED, "a.csv, row 2, field 'id': duplicate id '1'")),
    "empty descriptions": ("a.csv", b'id,title,description\n1,Alien,\n2,,""\n', (LOADS, 1, 1, None)),
    "whitespace descriptions": ("a.csv", b'id,title,description\n1,"  ","   "\n2,Heat,x\n', (LOADS, 1, 1, None)),
    "1 MB description": ("a.csv", _csv('1,Alien,1979,Horror,"' + "word " * 210_000 + '"\n'), (LOADS, 1, 0, None)),
    "non-UTF-8 bytes": ("a.csv", "id,title\n1,Amélie\n".encode("latin-1"), (REFUSED, "line 2 is not UTF-8")),
    "byte-order mark": ("a.csv", b"\xef\xbb\xbf" + _csv(GOOD), (LOADS, 1, 0, None)),
    "CRLF line endings": ("a.csv", _csv(GOOD).replace(b"\n", b"\r\n"), (LOADS, 1, 0, None)),
    "quoted newlines": ("a.csv", _csv('1,Alien,1979,Horror,"A crew.\nThen a creature."\n'), (LOADS, 1, 0, None)),
    "wrong delimiter": ("a.csv", b"id;title;description\n1;Alien;A crew\n", (REFUSED, "separated by semicolons")),
    "NaN year": ("a.csv", _csv("1,Alien,NaN,Horror,A crew\n"), (LOADS, 1, 0, None)),
    "impossible years": ("a.csv", _csv("1,A,3021,,x\n", "2,B,-5,,y\n", "3,C,abc,,z\n"), (LOADS, 3, 0, "3021")),
    "malformed JSON genres": (
        "a.csv",
        b'id,title,genres,description\n1,Alien,"[{""id"": 1, ""name"": ""Drama""",A crew\n',
        (LOADS, 1, 0, "field 'genres': not valid JSON"),
    ),
    "zero rows": ("a.csv", HEADER.encode(), (REFUSED, "no usable rows")),
    "empty file": ("a.csv", b"", (REFUSED, "the file is empty")),
    "one row": ("a.csv", _csv(GOOD), (LOADS, 1, 0, None)),
    "binary garbage": ("a.csv", bytes(random.Random(0).randrange(256) for _ in range(4096)), (REFUSED, "not UTF-8")),
    "formula cells": (
        "a.csv",
        _csv("1,=cmd|' /C calc'!A0,1979,=HYPERLINK(\"x\"),@SUM(1+1) text\n"),
        (LOADS, 1, 0, None),
    ),
    "JSON Lines with a broken line": (
        "a.jsonl",
        b'{"id": "1", "title": "A"}\n{oops}\n',
        (REFUSED, "line 2 is not valid JSON"),
    ),
    "JSON object, not rows": ("a.json", b'{"id": 1}', (REFUSED, "no title column")),
    "JSON array of non-objects": ("a.json", b"[1, 2, 3]", (REFUSED, "must be an object")),
    "JSON nested values": (
        "a.jsonl",
        b'{"id": 1, "title": ["A", "B"]}\n{"id": 2, "title": "Ok", "description": "fine"}\n',
        (LOADS, 1, 1, None),
    ),
    "corrupt Parquet": ("a.parquet", b"PAR1" + b"\0" * 100, (REFUSED, "cannot be read as a catalog")),
    "good Parquet": ("a.parquet", _parquet(), (LOADS, 1, 0, None)),
    "spreadsheet, not a catalog format": ("a.xlsx", b"PK\x03\x04", (REFUSED, "unsupported file type '.xlsx'")),
    "empty ids": ("a.csv", _csv(",Alien,1979,Horror,x\n", GOOD), (LOADS, 1, 1, None)),
    "a column named twice": ("a.csv", b"id,id,title\n1,2,Alien\n", (REFUSED, "names column 'id' twice")),
    "NUL and control characters": ("a.csv", _csv("1,Al\x00ien\x07,1979,Horror,x\x1b[31m\n"), (LOADS, 1, 0, None)),
    "ids with leading zeros": ("a.csv", _csv("007,Alien,1979,Horror,x\n"), (LOADS, 1, 0, None)),
    "1,000 extra columns": (
        "a.csv",
        (",".join(["id", "title", *(f"c{i}" for i in range(1000))]) + "\n1,A" + ",0" * 1000 + "\n").encode(),
        (LOADS, 1, 0, None),
    ),
    "a row wider than the header": ("a.csv", b"id,title\n1,Alien,x,y\n", (REFUSED, "a.csv, row 1: 4 cells")),
    "an unclosed quote": ("a.csv", b'id,title\n1,"Alien\n2,Heat\n', (REFUSED, "not a valid CSV table")),
    "TSV with commas inside": (
        "a.tsv",
        b"id\ttitle\tdescription\n1\tAlien, the film\tA crew, a ship\n",
        (LOADS, 1, 0, None),
    ),
    "100k rows": (
        "a.csv",
        (HEADER + "".join(f"{i},Title {i},{1950 + i % 70},Drama,Text {i}\n" for i in range(100_000))).encode(),
        (LOADS, 100_000, 0, None),
    ),
    "a directory instead of a file": ("a.csv", None, (REFUSED, "no such file")),
}


def _write(tmp_path, name: str):
    file_name, contents, _ = BAD_CATALOGS[name]
    path = tmp_path / file_name
    if contents is None:
        path.mkdir()
    else:
        path.write_bytes(contents)
    return path


@pytest.mark.parametrize("name", list(BAD_CATALOGS))
def test_a_bad_catalog_loads_with_its_skips_stated_or_is_refused_in_one_line(name, tmp_path, capsys):
    path = _write(tmp_path, name)
    expected = BAD_CATALOGS[name][2]
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if expected[0] == REFUSED:
        assert code == 1
        assert err.count("\n") == 1 and err.startswith(f"recsys: error: {path.name if path.is_file() else path}")
        assert expected[1] in err
        with pytest.raises(CatalogError):
            load_catalog(path)
        return
    _, titles, skipped, note = expected
    assert code == 0, err
    assert out.startswith(f"{path.name}: {titles} titles, {skipped} rows skipped")
    catalog = load_catalog(path)
    assert (len(catalog), len(catalog.skipped)) == (titles, skipped)
    assert all(reason for _, reason in catalog.skipped)  # every skipped row says why
    if note:
        assert any(note in line for line in catalog.notes), catalog.notes


@pytest.mark.parametrize("name", [name for name in BAD_CATALOGS if BAD_CATALOGS[name][1] is not None])
def test_the_app_reports_a_bad_upload_in_plain_words(name, app):
    file_name, contents, expected = BAD_CATALOGS[name]
    app.sidebar.radio(key="page-en").set_value("Catalog").run()
    app.file_uploader(key="catalog_upload").upload(f"../../{file_name}", contents).run()
    assert not app.exception, app.exception
    if expected[0] == REFUSED:
        assert len(app.error) == 1 and app.error[0].value.startswith(f"This file cannot be used: {file_name}")
        assert expected[1] in app.error[0].value
    else:
        titles, skipped = expected[1], expected[2]
        assert [s.value for s in app.success] == [f"{file_name}: {titles:,} titles read, {skipped} rows skipped."]
        assert len(app.warning) == min(skipped, 20)  # one line per skipped row, saying why


def test_hostile_text_is_kept_as_text_and_cleaned(tmp_path):
    catalog = load_catalog(_write(tmp_path, "formula cells"))
    assert catalog.frame.loc[0, "title"] == "=cmd|' /C calc'!A0"  # stored as text, never evaluated
    catalog = load_catalog(_write(tmp_path, "NUL and control characters"))
    assert not any(ord(char) < 32 for char in catalog.frame.loc[0, "title"] + catalog.frame.loc[0, "description"])
    assert load_catalog(_write(tmp_path, "ids with leading zeros")).ids == ["007"]


# -- queries ---------------------------------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis", reason="the dev extra installs hypothesis")
strategies = hypothesis.strategies


@hypothesis.settings(max_examples=150, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.given(query=strategies.text(max_size=10_000))
def test_any_unicode_query_gets_results_or_a_clear_message(small_model, query):
    try:
        hits = small_model.search(query, k=5)
    except QueryError as err:
        assert not any(char.isalnum() for char in query) and ("empty" in str(err) or "nothing" in str(err))
        return
    assert 0 < len(hits) <= 5
    explanation = small_model.explain(query, movie_id=hits[0].id)
    assert explanation.score == pytest.approx(hits[0].score, rel=1e-4, abs=1e-5)


@pytest.mark.parametrize(
    "query",
    ["", "   \t\n", "\x00\x01\x02\x1b[2J", "the of and a", "🎬🍿", "‮gnp.exe", "a" * 1_000_000, "x " * 500_000],
    ids=[
        "empty",
        "whitespace",
        "control characters",
        "stop words",
        "emoji",
        "bidi override",
        "1 MB word",
        "1 MB words",
    ],
)
def test_odd_queries(small_model, query):
    try:
        hits = small_model.search(query, k=3)
    except QueryError as err:
        assert not any(char.isalnum() for char in query) and ("empty" in str(err) or "nothing" in str(err))
        return
    assert len(hits) == 3
    explanation = small_model.explain(query, movie_id=hits[0].id)
    assert explanation.score == pytest.approx(hits[0].score, rel=1e-4, abs=1e-5)


# -- tampered models -------------------------------------------------------------------------------------


def _tamper_missing(directory):
    (directory / "head.safetensors").unlink()


def _tamper_checksum(directory):
    with open(directory / "embeddings.safetensors", "r+b") as handle:
        handle.seek(200)
        handle.write(b"\x01\x02")


def _tamper_future(directory):
    config = json.loads((directory / "config.json").read_text())
    config["format_version"] = 1000
    (directory / "config.json").write_text(json.dumps(config))


class _Bomb:
    def __reduce__(self):
        return (exec, ("raise SystemExit('a pickle was loaded')",))


def _plant_pickle(directory):
    (directory / "model.pkl").write_bytes(pickle.dumps(_Bomb()))


def _replace_with_pickle(directory):
    (directory / "head.safetensors").write_bytes(pickle.dumps(_Bomb()))


def _broken_config(directory):
    (directory / "config.json").write_text("{not json")


TAMPERING = {
    "a file missing": (_tamper_missing, "head.safetensors is missing"),
    "a changed checksum": (_tamper_checksum, "checksum does not match"),
    "a version from the future": (_tamper_future, "newer than this recsys reads"),
    "a pickle planted beside": (_plant_pickle, "model.pkl: not part of the model"),
    "a pickle in place of the head": (_replace_with_pickle, "checksum does not match"),
    "a broken config": (_broken_config, "not valid JSON"),
}


@pytest.mark.parametrize("name", list(TAMPERING))
def test_a_tampered_model_is_refused_and_nothing_is_unpickled(name, small_model, tmp_path, monkeypatch, capsys):
    directory = small_model.save(tmp_path / "model")
    tamper, message = TAMPERING[name]
    tamper(directory)
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("pickle.loads was called"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("pickle.load was called"))
    with pytest.raises(ModelError, match=message):
        MovieSearch.load(directory)
    assert main(["search", "--model", str(directory), "aliens"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message.split(":")[-1].strip() in err


# -- concurrency -----------------------------------------------------------------------------------------

QUERIES = ["aliens on a ship", "a wedding", "war", "ghost in a house", "gold in the west", "dance battle",
           "a chemistry teacher", "spirits", "first contact", "love on a farm", "a siege", "comedy"]  # fmt: skip


def test_eight_threads_searching_one_model_get_the_serial_results(small_model):
    work = [QUERIES[i % len(QUERIES)] for i in range(400)]
    serial = {query: small_model.search(query, k=5) for query in QUERIES}
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda query: (query, small_model.search(query, k=5)), work))
    assert len(results) == 400
    assert all(hits == serial[query] for query, hits in results)


def test_a_background_retrain_never_serves_a_half_built_model(small_model, tmp_path):
    from recsys.jobs import RetrainJob

    served_dir = small_model.save(tmp_path / "served")
    served = MovieSearch.load(served_dir)
    expected = {query: served.search(query, k=5) for query in QUERIES}
    job = RetrainJob(served, tmp_path / "new").start()
    checked, stop = [0], threading.Event()

    def search_meanwhile():
        while not stop.is_set():
            for query in QUERIES:
                assert served.search(query, k=5) == expected[query]
                checked[0] += 1

    searcher = threading.Thread(target=search_meanwhile)
    searcher.start()
    state = job.wait(timeout=300)
    stop.set()
    searcher.join()
    assert state.status in {"better", "not better"} and checked[0] > 0
    reloaded = MovieSearch.load(served_dir)  # the served model's directory was never touched
    assert all(reloaded.search(query, k=5) == hits for query, hits in expected.items())
    if state.status == "better":
        MovieSearch.load(state.result)  # complete and verified
    else:
        assert not (tmp_path / "new").exists()
