"""Every page of the Streamlit app, driven by streamlit's AppTest (no browser; see test_browser.py for one)."""

from __future__ import annotations

import json


def _page(at, name: str):
    at.sidebar.radio(key="page").set_value(name).run()
    assert not at.exception, at.exception
    return at


def _markdown(at) -> str:
    return "\n".join(element.value for element in at.markdown)


def test_search_shows_understood_genres_results_and_highlighted_words(app):
    app.text_input(key="query").input("sci-fi about aliens").run()
    assert not app.exception, app.exception
    captions = " ".join(c.value for c in app.caption)
    assert "genre: Science Fiction, from 'sci-fi'" in captions
    text = _markdown(app)
    assert text.count("Science Fiction") >= 5  # result cards name their genres
    assert "<mark" in text and "aliens</mark>" in text.lower()  # query and description words highlighted
    assert not app.get("vega_lite_chart")
    app.toggle(key=next(t.key for t in app.toggle if t.key.startswith("why-"))).set_value(True).run()
    assert len(app.get("vega_lite_chart")) == 1  # the word-pair heatmap of that result
    assert any(m.value.startswith("score ") and "attention" in m.value for m in app.markdown)


def test_examples_and_filters_narrow_the_results(app):
    app.button(key="example-90s romantic comedy").click().run()
    assert app.text_input(key="query").value == "90s romantic comedy"
    app.multiselect(key="genres").set_value(["Horror"]).run()
    headings = [m.value for m in app.markdown if m.value.startswith("**")]
    assert headings and all("Horror" in heading for heading in headings)


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


def test_catalog_upload_is_checked_previewed_indexed_and_searched(app, small_catalog_path):
    _page(app, "Catalog")
    app.file_uploader(key="catalog_upload").upload("../../small.csv", small_catalog_path.read_bytes()).run()
    assert "small.csv: 14 titles read, 0 rows skipped." in [s.value for s in app.success]
    assert "description ← `description`" in _markdown(app)
    app.button(key="index_catalog").click().run()
    assert not app.exception, app.exception
    assert "uploads" in app.session_state["model_dir"] and "small" in app.session_state["model_dir"]
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


def test_retraining_runs_in_the_background_and_swaps_only_a_better_model(app, small_model, tmp_path):
    served = _serve_small_model(app, small_model, tmp_path)
    _page(app, "Retrain")
    app.button(key="start_retrain").click().run()
    state = app.session_state["job"].wait(timeout=300)
    app.run()
    assert state.status in {"better", "not better"}
    if state.status == "better":
        assert app.session_state["model_dir"] == str(state.result) != served
        assert any("The new model is serving now" in s.value for s in app.success)
    else:
        assert app.session_state["model_dir"] == served
        assert any("keeps serving" in i.value for i in app.info)
    assert len(app.get("vega_lite_chart")) == 1 or not state.validation  # the validation curve


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
