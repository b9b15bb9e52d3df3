"""Every page of the Streamlit app, driven by streamlit's AppTest (no browser; see test_browser.py for one)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace

from recsys import MovieSearch


def _page(at, name: str):
    at.sidebar.radio(key="page-en").set_value(name).run()
    assert not at.exception, at.exception
    return at


def _markdown(at) -> str:
    return "\n".join(element.value for element in at.markdown)


def test_search_shows_understood_genres_results_and_highlighted_words(app):
    app.text_input(key="query").input("sci-fi about aliens").run()
    assert not app.exception, app.exception
    chips = [button.label for button in app.button if button.key.startswith("drop-")]
    assert chips == ["✕ genre: Science Fiction, from 'sci-fi'"]
    text = _markdown(app)
    assert text.count("Science Fiction") >= 5  # result cards name their genres
    assert "<mark" in text and "aliens</mark>" in text.lower()  # query and description words highlighted
    assert not app.get("vega_lite_chart")
    app.toggle(key=next(t.key for t in app.toggle if t.key.startswith("why-"))).set_value(True).run()
    assert len(app.get("vega_lite_chart")) == 1  # the word-pair heatmap of that result
    assert any(m.value.startswith("score ") and "attention" in m.value for m in app.markdown)


def test_understood_chips_drop_a_reading_and_people_link_to_a_search(app):
    app.text_input(key="query").input("films by akira kurosawa").run()
    assert "✕ director: Akira Kurosawa, from 'akira kurosawa'" in [button.label for button in app.button]
    headings = [m.value for m in app.markdown if m.value.startswith("**")]
    facts = [c.value for c in app.caption if c.value.startswith("Directed by")]
    assert len(headings) == 10 and all("[Akira Kurosawa](?q=Akira+Kurosawa)" in line for line in facts[:5])
    app.button(key="drop-person:Akira Kurosawa").click().run()
    assert app.session_state["ignored"] == ["person:Akira Kurosawa"]
    assert not [button for button in app.button if button.key.startswith("drop-person")]
    app.text_input(key="query").input("horor").run()  # a new query keeps every reading again
    assert "✕ spelling: horror, from 'horor'" in [button.label for button in app.button]


def test_a_spanish_query_is_read_translated_and_its_typed_words_marked(app):
    from recsys.translate import shared_translator

    app.text_input(key="query").input("ciencia ficción sobre extraterrestres").run()
    chips = [button.label for button in app.button if button.key.startswith("drop-")]
    assert "✕ genre: Science Fiction, from 'ciencia ficción'" in chips
    headings = [m.value for m in app.markdown if m.value.startswith("**")]
    assert sum("Science Fiction" in heading for heading in headings) >= 8
    if shared_translator() is not None:
        assert any(chip.startswith("✕ translated: 'Science fiction on aliens'") for chip in chips)
        assert "extraterrestres</mark>" in _markdown(app)  # the shares are shown on the words typed
    app.selectbox(key="query_language-en").set_value("English").run()  # read as English: no Spanish genre words
    assert not [button for button in app.button if button.key.startswith("drop-genre")]


def test_examples_and_filters_narrow_the_results(app):
    app.button(key="example-90s romantic comedy").click().run()
    assert app.text_input(key="query").value == "90s romantic comedy"
    app.multiselect(key="genres").set_value(["Horror"]).run()
    headings = [m.value for m in app.markdown if m.value.startswith("**")]
    assert headings and all("Horror" in heading for heading in headings)
    app.text_input(key="query").input("a ghost story").run()
    app.multiselect(key="countries").set_value(["Japan"]).run()
    facts = [c.value for c in app.caption if "Directed by" in c.value or "Starring" in c.value]
    assert len(facts) >= 3 and all("Japan" in line for line in facts)  # horror titles made in Japan


def test_more_like_this_and_recommendations_from_likes(app):
    app.text_input(key="query").input("space adventure with aliens").run()
    first_like = next(b for b in app.button if b.key.startswith("like-"))
    liked_id = first_like.key.split("-", 1)[1].rsplit("-", 1)[0]
    first_like.click().run()
    assert app.session_state["liked"] == [liked_id]
    next(b for b in app.button if b.key.startswith("more-")).click().run()
    assert any(s.value.startswith("More like") for s in app.subheader)
    _page(app, "Recommendations")
    app.button(key="recommend").click().run()
    captions = [c.value for c in app.caption]
    assert sum(c.startswith("Because you liked") for c in captions) == 10
    less = next(b for b in app.button if b.key.startswith("less-"))
    disliked_id = less.key.split("-", 1)[1].rsplit("-", 1)[0]
    less.click().run()
    assert app.session_state["disliked"] == [disliked_id]
    assert not [b for b in app.button if b.key.startswith(f"less-{disliked_id}-")]  # no longer recommended
    assert any(b.key == f"undislike-{disliked_id}" for b in app.button)


def test_catalog_upload_is_checked_previewed_indexed_and_searched(app, small_catalog_path, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the app may keep the upload while reading it
    _page(app, "Catalog")
    app.file_uploader(key="catalog_upload").upload("../../small.csv", small_catalog_path.read_bytes()).run()
    assert "small.csv: 14 titles read, 0 rows skipped." in [s.value for s in app.success]
    assert "description ← `description`" in _markdown(app)
    app.button(key="index_catalog").click().run()
    assert not app.exception, app.exception
    assert app.session_state["index_job"].wait(timeout=120).status == "done"  # indexed in the background
    app.run()
    assert "Indexed 14 titles. The Search page now searches small.csv." in [s.value for s in app.success]
    assert "uploads" in app.session_state["model_dir"] and "small" in app.session_state["model_dir"]
    assert not list(tmp_path.iterdir())  # the uploaded file was removed once read
    _page(app, "Search")
    app.text_input(key="query").input("alien creature on a ship").run()
    assert "Star Harbor" in _markdown(app)


def test_a_broken_upload_is_refused_in_plain_words(app):
    _page(app, "Catalog")
    app.file_uploader(key="catalog_upload").upload("dupes.csv", b"id,title\na,One\na,Two\n").run()
    errors = [e.value for e in app.error]
    assert errors == ["This file cannot be used: dupes.csv, row 2, field 'id': duplicate id 'a' (first seen in row 1)"]


def _serve_small_model(app, small_model, tmp_path) -> str:
    served = str(small_model.save(tmp_path / "served"))
    app.session_state["model_dir"] = served
    return served


def _trained_with(chosen: str, small_model):
    """A stand-in for training whose outcome is fixed: the head ``chosen`` won on validation."""

    def train(model, config, progress, init):
        for epoch, score in enumerate([0.5, 0.6], start=1):
            progress("training head", epoch, 2, {"validation": score, "head": 1})
        progress("training head", 1, 2, {"validation": 0.55, "head": 2})
        validation = {"untrained": 0.4, "start": 0.5, "trained": 0.6 if chosen == "trained" else 0.45}
        return replace(small_model, metrics={"validation": validation, "chosen": chosen})

    return train


def test_a_retrained_head_that_is_better_replaces_the_served_model(app, small_model, tmp_path, monkeypatch):
    served = _serve_small_model(app, small_model, tmp_path)
    monkeypatch.setattr("recsys.jobs.train", _trained_with("trained", small_model))
    _page(app, "Retrain")
    app.button(key="start_retrain").click().run()
    state = app.session_state["job"].wait(timeout=60)
    app.run()
    assert state.status == "better" and state.validation == [0.5, 0.6, 0.55]
    assert state.validation_series == [("training head", 1), ("training head", 1), ("training head", 2)]
    assert app.session_state["model_dir"] == str(state.result) != served
    assert MovieSearch.load(state.result).metrics["chosen"] == "trained"
    assert any("0.5000 → 0.6000. The new model is serving now" in s.value for s in app.success)
    assert len(app.get("vega_lite_chart")) == 1  # the validation curve


def test_a_retrained_head_that_is_not_better_leaves_the_served_model(app, small_model, tmp_path, monkeypatch):
    served = _serve_small_model(app, small_model, tmp_path)
    monkeypatch.setattr("recsys.jobs.train", _trained_with("start", small_model))
    _page(app, "Retrain")
    app.button(key="start_retrain").click().run()
    state = app.session_state["job"].wait(timeout=60)
    app.run()
    assert state.status == "not better" and state.result is None
    assert app.session_state["model_dir"] == served
    assert any("was not better on the held-out titles (0.5000 against 0.5000)" in i.value for i in app.info)


def test_a_failed_retrain_leaves_the_served_model(app, small_model, tmp_path, monkeypatch):
    served = _serve_small_model(app, small_model, tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr("recsys.jobs.train", broken)
    _page(app, "Retrain")
    app.button(key="start_retrain").click().run()
    app.session_state["job"].wait(timeout=60)
    app.run()
    assert app.session_state["model_dir"] == served
    assert any("Training failed; the current model keeps serving" in e.value for e in app.error)


def test_evaluate_compares_recsys_with_both_baselines(app, tmp_path):
    _page(app, "Evaluate")
    queries = [{"qid": "q1", "query": "haunted house", "relevant": ["the-haunting-1963", "poltergeist-1982"]},
               {"qid": "q2", "query": "boxing", "relevant": ["rocky-1976", "raging-bull-1980"]}]  # fmt: skip
    data = "\n".join(json.dumps(q) for q in queries).encode()
    app.file_uploader(key="queries_upload").upload("queries.jsonl", data).run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert list(table["system"]) == ["recsys", "BM25", "sentence-transformers + FAISS"]
    assert {"ndcg@10", "recall@100", "mrr@10"} <= set(table.columns)
    assert len(app.get("vega_lite_chart")) == 1


def test_every_app_message_has_its_spanish_and_the_app_switches_to_it(app):
    import ast
    from pathlib import Path

    from recsys.app.messages import SPANISH

    literals = set()
    for path in Path("recsys/app").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = isinstance(node, ast.Call) and getattr(node.func, "id", None) == "t" and node.args
            if called and isinstance(node.args[0], ast.Constant):
                literals.add(node.args[0].value)
    assert literals and not literals - set(SPANISH)  # every message the app shows has a Spanish entry
    app.sidebar.radio(key="ui_language").set_value("Español").run()
    app.text_input(key="query").input("películas de terror de los 80").run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Buscar"
    chips = [button.label for button in app.button if button.key.startswith("drop-")]
    assert "✕ género: Terror, de 'de terror'" in chips and "✕ años: 1980s, de 'de los 80'" in chips
    assert any(c.value.startswith("10 resultados en") for c in app.caption)
    app.text_input(key="query").input("¿¿!!??").run()  # the engine's message, in Spanish
    assert app.error and app.error[0].value.startswith("la búsqueda no tiene nada que buscar")


def test_the_engine_notes_and_stages_the_app_shows_have_their_spanish():
    from recsys.app.messages import SPANISH, both_languages
    from recsys.query import QueryParser

    note = QueryParser(["Drama"], ["movie"], translator=lambda: None).parse("un viaje largo", language="es").notes
    assert note and note[0] in SPANISH  # without Apertium
    assert both_languages("First start: {stage} ({done:,} of {total:,})", stage="embedding", done=1200, total=1237) == (
        "First start: embedding (1,200 of 1,237) / Primer arranque: codificando descripciones (1,200 de 1,237)"
    )


def test_the_validation_curve_has_one_line_per_averaged_head_and_one_for_the_history_model():
    from recsys.app.widgets import validation_curves
    from recsys.jobs import JobState

    series = [("training head", 1), ("training head", 1), ("training head", 2), ("training the history model", None)]
    curves = validation_curves(JobState(validation=[0.5, 0.6, 0.4, 0.2], validation_series=series))
    assert curves["epoch"].tolist() == [1, 2, 1, 1]
    assert curves["curve"].tolist() == ["training head 1", "training head 1", "training head 2",
                                        "training the history model"]  # fmt: skip
    assert curves["validation nDCG@10"].tolist() == [0.5, 0.6, 0.4, 0.2]


def test_a_first_start_reports_each_stage_of_the_build_then_searches(default_model, monkeypatch):
    """The first start's progress bar, fed as the default model's build feeds it (the build itself is timed
    by ``benchmarks.app`` in a browser)."""
    from streamlit.testing.v1 import AppTest

    from benchmarks.common import ROOT
    from recsys.app import state
    from recsys.default import default_model as built

    reports = []

    def building(progress=False):
        for done in range(3):
            progress("encoding titles", done, 2, {})
            reports.append(done)
        return built()

    monkeypatch.setattr(state, "default_model", building)
    state.default_path.clear()  # the app's cache holds the path found by the tests before
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        at.run()
        assert not at.exception, at.exception
        assert reports == [0, 1, 2]
        at.text_input(key="query").input("heist gone wrong").run()
        assert "results in" in "\n".join(caption.value for caption in at.caption)
    finally:
        state.default_path.clear()
