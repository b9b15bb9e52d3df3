"""The app's pages: Search, Recommendations, Catalog, Retrain, Evaluate."""

from __future__ import annotations

import html
import tempfile
import time
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from recsys import CatalogError, MovieSearch, RecsysError, load_catalog
from recsys.app.messages import EXAMPLES_ES, reading_line, t, ui_language
from recsys.app.state import UPLOAD_LIMIT_MB, default_path, load_model, models_dir
from recsys.app.widgets import card, highlighted, job_bar, mean_shares
from recsys.evaluate import compare_systems, genre_queries, read_queries
from recsys.files import SUFFIXES, safe_file_name
from recsys.interactions import Interactions, read_interactions
from recsys.jobs import IndexJob, RetrainJob
from recsys.train import TrainConfig

EXAMPLES = [
    "sci-fi about first contact with aliens",
    "90s romantic comedy",
    "haunted house horror",
    "animated series for kids",
    "heist gone wrong",
    "documentary about music",
]


LANGUAGE_CHOICES = {"Auto": None, "English": "en", "Español": "es"}  # the query's language: detected, or given


def set_query(text: str) -> None:
    """Put an example query in the search box."""
    st.session_state.query = text
    st.session_state.pop("more_like", None)
    st.session_state.ignored = []


def drop_reading(key: str) -> None:
    """Search again without one reading of the query (its ✕ chip was clicked)."""
    st.session_state.setdefault("ignored", []).append(key)


def search_page(model: MovieSearch) -> None:
    """Query box, examples, filters, what was understood, results with their explanations."""
    st.title(t("Search"))
    st.text_input(
        t("What would you like to watch?"), key="query", placeholder=t("sci-fi about first contact with aliens"),
        on_change=st.session_state.update, args=({"ignored": []},),
    )  # fmt: skip
    examples = st.columns(3)
    for column, example in zip(examples * 2, EXAMPLES_ES if ui_language() == "es" else EXAMPLES, strict=True):
        column.button(example, key=f"example-{example}", on_click=set_query, args=(example,), width="stretch")
    filters = _filters(model)
    if st.session_state.get("more_like"):
        return more_like_results(model, st.session_state.more_like)
    query = st.session_state.get("query", "").strip()
    if not query:
        st.info(t("Type what you are in the mood for, or pick an example above."))
        return
    ignored = tuple(st.session_state.get("ignored", []))
    language = LANGUAGE_CHOICES[st.session_state.get("query_language", "Auto")]
    started = time.perf_counter()
    try:
        hits = model.search(query, k=10, ignore=ignored, language=language, **filters)
        explanations = model.explain_many(query, [hit.id for hit in hits], ignored, language) if hits else []
    except RecsysError as err:
        st.error(t(str(err)))  # the engine's message, in Spanish where the catalog has it
        return
    elapsed = time.perf_counter() - started
    understood = model.understand(query, ignored, language)
    understood_chips(understood.readings)
    for note in understood.notes:
        st.caption(t("Note: {note}", note=t(note)))
    st.caption(t("{count} results in {ms} ms", count=len(hits), ms=f"{1000 * elapsed:.0f}"))
    if not hits:
        st.warning(t("No title matches these filters."))
        return
    if explanations[0].source_words:  # a translated query: the shares on the words the user typed
        typed = highlighted(explanations[0].source_text, mean_shares(explanations, "source_words"))
        untranslated = [w for w in mean_shares(explanations, "source_words") if w.end == w.start and w.share > 0]
        extra = ", ".join(f"{html.escape(w.word)} {w.share:+.3f}" for w in untranslated[:4])
        st.markdown(
            t("Your query, its words marked by their mean share over these results: ") + typed
            + (f" <small>{t('(from the translation: {words})', words=extra)}</small>" if extra else ""),
            unsafe_allow_html=True,
        )  # fmt: skip
    else:
        st.markdown(
            t("Your query, its words marked by their mean share over these results: ")
            + highlighted(explanations[0].query_text, mean_shares(explanations)),
            unsafe_allow_html=True,
        )
    best = max(hit.score for hit in hits)
    for rank, (hit, explanation) in enumerate(zip(hits, explanations, strict=True), start=1):
        card(model, hit, rank, best, explanation)


def understood_chips(readings: list) -> None:
    """What the query was understood as, one chip per reading; its ✕ searches again without it."""
    if not readings:
        return
    columns = st.columns([1.2] + [2] * min(len(readings), 4))
    columns[0].caption(t("Understood as:"))
    for number, reading in enumerate(readings):
        column = columns[1 + number % (len(columns) - 1)]
        column.button(f"✕ {reading_line(reading.shown)}", key=f"drop-{reading.key}", on_click=drop_reading,
                      args=(reading.key,), help=t("Drop this reading: its words are searched as plain words"),
                      width="stretch")  # fmt: skip


def _filters(model: MovieSearch) -> dict:
    """The Filters expander: genres, years, kind, countries, ratings, runtime, as ``search`` takes them."""
    frame = model.catalog.frame
    years = frame["year"].dropna()
    countries = sorted({country for found in frame["countries"] for country in found})
    ratings = sorted({rating for rating in frame["maturity"] if rating})
    runtimes = frame["runtime"].dropna()
    with st.expander(t("Filters")):
        left, middle, right = st.columns([3, 3, 1])
        genres = left.multiselect(t("Genres (any of them)"), model.catalog.genres(), key="genres")
        low, high = (int(years.min()), int(years.max())) if len(years) else (1900, 2030)
        chosen = middle.slider(t("Years"), low, high, (low, high), key="years") if low < high else (low, high)
        kinds = {t(kind): kind for kind in ["any", *sorted(set(frame["kind"]))]}  # shown → value
        kind = kinds.get(right.selectbox(t("Kind"), list(kinds), key=f"kind-{ui_language()}"), "any")
        languages = {t(choice): choice for choice in LANGUAGE_CHOICES}
        chosen_language = right.selectbox(t("Query language"), list(languages), key=f"query_language-{ui_language()}")
        st.session_state.query_language = languages.get(chosen_language, "Auto")
        left, middle, right = st.columns([3, 3, 1])
        excluded = left.multiselect(t("Leave out genres"), model.catalog.genres(), key="exclude_genres")
        picked = middle.multiselect(t("Countries"), countries, key="countries") if countries else []
        rated = right.multiselect(t("Ratings"), ratings, key="ratings") if ratings else []
        longest = int(runtimes.max()) if len(runtimes) else 0
        limit = st.slider(t("At most (minutes)"), 10, longest, longest, key="max_runtime") if longest > 10 else longest
    return {
        "genres": genres or None,
        "years": None if chosen == (low, high) else chosen,
        "kind": None if kind == "any" else kind,
        "exclude_genres": excluded or None,
        "countries": picked or None,
        "ratings": rated or None,
        "max_runtime": None if limit >= longest else limit,
    }


def more_like_results(model: MovieSearch, movie_id: str) -> None:
    """Titles drawn by attention from one title."""
    st.subheader(t("More like {title}", title=model.title(movie_id)["title"]))
    st.button(t("← Back to the search"), on_click=st.session_state.pop, args=("more_like", None))
    found = model.recommend([movie_id], k=10)
    best = max((item.score for item in found), default=0.0)
    for rank, item in enumerate(found, start=1):
        card(model, item, rank, best)


def recommendations_page(model: MovieSearch) -> None:
    """The liked titles and what attention from them recommends."""
    st.title(t("Recommendations from your likes"))
    liked = [movie_id for movie_id in st.session_state.get("liked", []) if movie_id in model]
    if not liked:
        st.info(t("Mark titles with ♡ Like on the Search page, then come back here."))
        return
    st.write(t("You liked:"))
    for movie_id in liked:
        left, right = st.columns([6, 1])
        left.markdown(f"- {html.escape(model.title(movie_id)['title'])}")
        right.button(t("Remove"), key=f"unlike-{movie_id}", on_click=st.session_state.liked.remove, args=(movie_id,))
    disliked = [movie_id for movie_id in st.session_state.get("disliked", []) if movie_id in model]
    if disliked:
        st.write(t("Less like:"))
        for movie_id in disliked:
            left, right = st.columns([6, 1])
            left.markdown(f"- {html.escape(model.title(movie_id)['title'])}")
            right.button(t("Remove"), key=f"undislike-{movie_id}", on_click=st.session_state.disliked.remove,
                         args=(movie_id,))  # fmt: skip
    if model.taste is not None:
        taste = model.metrics.get("taste", {})
        parts = ", ".join(f"{t(name)} {weight:g}" for name, weight in model.taste.weights.items() if weight)
        st.caption(t("Learned from {likes:,} likes of {users:,} people: {parts}", likes=taste.get("likes", 0),
                     users=taste.get("users", 0), parts=parts))  # fmt: skip
    if st.button(t("Recommend from my likes"), type="primary", key="recommend") or st.session_state.get("recommended"):
        st.session_state.recommended = True
        found = model.recommend(liked, k=10, disliked_ids=disliked)
        best = max((item.score for item in found), default=0.0)
        for rank, item in enumerate(found, start=1):
            card(
                model, item, rank, best, reason=t("Because you liked {title}", title=item.reason(0.01)), less_like=True
            )


def catalog_page(model: MovieSearch) -> None:
    """Upload, check, preview and index a catalog (indexing runs in the background)."""
    st.title(t("Catalog"))
    st.write(t("Serving **{source}**: {count:,} titles.", source=model.catalog.source, count=len(model.catalog)))
    # No type filter in the widget: the loader names what it accepts, in the same words as the command line.
    upload = st.file_uploader(
        t(
            "Upload a catalog: CSV, TSV, JSON Lines or Parquet ({suffixes}), up to {limit} MB",
            suffixes=", ".join(SUFFIXES),
            limit=UPLOAD_LIMIT_MB,
        ),
        key="catalog_upload",
    )
    if upload is None:
        st.caption(
            t("Columns are recognised by name: id, title, description/overview/plot, genres/listed_in, "
              "year/release_year, type/kind, keywords/tags, director, cast, country, rating, duration.")
        )  # fmt: skip
        return
    name = safe_file_name(upload.name)
    with tempfile.TemporaryDirectory(prefix="recsys-upload-") as folder:  # removed once the file is read
        path = Path(folder) / name
        path.write_bytes(upload.getvalue())
        try:
            catalog = load_catalog(path)
        except CatalogError as err:
            st.error(t("This file cannot be used: {error}", error=err))
            return
    st.success(t("{name}: {count:,} titles read, {skipped} rows skipped.", name=name, count=len(catalog),
                 skipped=len(catalog.skipped)))  # fmt: skip
    recognised = ", ".join(f"{field} ← `{column}`" for field, column in catalog.columns.items())
    st.write(t("Recognised columns: ") + recognised)
    for row, reason in catalog.skipped[:20]:
        st.warning(t("Row {row} skipped: {reason}", row=row, reason=reason))
    for note in catalog.notes[:20]:
        st.caption(t("Note: {note}", note=t(note)))
    st.dataframe(catalog.frame.head(50), width="stretch", hide_index=True)
    running = "index_job" in st.session_state and st.session_state.index_job.snapshot().status == "running"
    if st.button(t("Index this catalog"), type="primary", key="index_catalog", disabled=running):
        out = models_dir() / "uploads" / f"{Path(name).stem}-{catalog.fingerprint()[:10]}"
        st.session_state.index_job = IndexJob(catalog, load_model(default_path()), out).start()
        st.session_state.index_name, st.session_state.index_served = name, False
    if "index_job" in st.session_state:
        index_progress()


@st.fragment(run_every=1.0)
def index_progress() -> None:
    """The indexing job's progress, refreshed every second; its model serves once it is done."""
    job: IndexJob = st.session_state.index_job
    state = job_bar(job, t("Indexing"))
    if state.status == "done":
        if not st.session_state.index_served:  # once: the user may go back to the default catalog after
            st.session_state.model_dir, st.session_state.index_served = str(state.result), True
        titles = len(job.catalog)
        st.success(t("Indexed {count:,} titles. The Search page now searches {name}.", count=titles,
                     name=st.session_state.index_name))  # fmt: skip


def retrain_page(model: MovieSearch) -> None:
    """Retrain the head on the served catalog in the background."""
    st.title(t("Retrain"))
    st.write(
        t("Train the attention head on **{source}** ({count:,} titles) from pseudo-queries made from the catalog "
          "itself. The current model keeps answering meanwhile; the new one replaces it only if it finished and is "
          "better on the held-out titles.", source=model.catalog.source, count=len(model.catalog))
    )  # fmt: skip
    job: RetrainJob | None = st.session_state.get("job")
    running = job is not None and job.snapshot().status == "running"
    epochs = st.slider(t("Epochs (at most; training stops early when validation stops improving)"), 1, 40, 20)
    likes = _uploaded_likes(model)
    if st.button(t("Start retraining"), type="primary", disabled=running, key="start_retrain"):
        out = models_dir() / "retrained" / f"{Path(model.catalog.source).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
        st.session_state.job = RetrainJob(model, out, TrainConfig(epochs=epochs), likes).start()
        st.session_state.job_model = st.session_state.model_dir
    if st.session_state.get("job") is not None:
        retrain_progress()


def _uploaded_likes(model: MovieSearch) -> Interactions | None:
    """Interactions uploaded for recommendations to learn from, read against the served catalog (or None)."""
    upload = st.file_uploader(
        t("Optional: ratings, watches or likes to learn recommendations from (user, item, rating, timestamp "
          "columns; {suffixes})", suffixes=", ".join(SUFFIXES)),
        key="likes_upload",
    )  # fmt: skip
    if upload is None:
        return None
    with tempfile.TemporaryDirectory(prefix="recsys-upload-") as folder:  # removed once the file is read
        path = Path(folder) / safe_file_name(upload.name)
        path.write_bytes(upload.getvalue())
        try:
            likes = read_interactions(path, model.catalog)
        except CatalogError as err:
            st.error(t("This file cannot be used: {error}", error=err))
            return None
    report = likes.report
    st.success(t("{likes:,} likes from {users:,} people on {titles:,} titles; {unknown:,} rows name titles that are "
                 "not in the catalog.", likes=report["likes"], users=report["users"], titles=report["titles liked"],
                 unknown=report["rows of items not in the catalog"]))  # fmt: skip
    return likes


@st.fragment(run_every=1.0)
def retrain_progress() -> None:
    """The retraining job's progress and validation curve, refreshed every second."""
    job: RetrainJob = st.session_state.job
    state = job_bar(job, t("Training"))
    if state.status == "better":
        if st.session_state.get("model_dir") == st.session_state.get("job_model"):
            st.session_state.model_dir = str(state.result)
        st.success(
            t("Done in {seconds:.0f} s: validation nDCG@10 {served:.4f} → {new:.4f}. The new model is serving now.",
              seconds=state.seconds, served=state.served_validation, new=state.new_validation)
        )  # fmt: skip
    elif state.status == "likes learned":
        if st.session_state.get("model_dir") == st.session_state.get("job_model"):
            st.session_state.model_dir = str(state.result)
        st.success(
            t("Done in {seconds:.0f} s: recommendations now learn from the likes (head validation nDCG@10 "
              "{served:.4f} → {new:.4f}; the better head is kept). The new model is serving now.",
              seconds=state.seconds, served=state.served_validation, new=state.new_validation)
        )  # fmt: skip
    elif state.status == "not better":
        st.info(
            t("Done in {seconds:.0f} s: the new head was not better on the held-out titles ({new:.4f} against "
              "{served:.4f}); the current model keeps serving.", seconds=state.seconds,
              served=state.served_validation, new=state.new_validation)
        )  # fmt: skip


def evaluate_page(model: MovieSearch) -> None:
    """Compare recsys with BM25 and a dense baseline on labelled queries."""
    st.title(t("Evaluate"))
    st.write(
        t("nDCG@10, Recall@100 and MRR@10 of recsys against BM25 and sentence-transformers + FAISS (all-MiniLM-L6-v2, "
          "exhaustive cosine search) on the same queries. Without sentence-transformers installed, the dense baseline "
          "is this model's own encoder with an untrained head, and the table says so.")
    )  # fmt: skip
    queries, what = _evaluation_queries(model)
    if queries is None:
        return
    try:
        with st.spinner(t("Running the three systems…")):
            scores = compare_systems(model, queries)
    except RecsysError as err:
        st.error(t(str(err)))  # the engine's message, in Spanish where the catalog has it
        return
    st.write(t("{count} queries ({what}).", count=len(queries), what=what))
    table = pd.DataFrame(scores).T.rename_axis("system").reset_index()
    long = table.melt(id_vars="system", var_name="measure", value_name="value")
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("system:N", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("system:N", legend=alt.Legend(orient="bottom", title=None)),
            column=alt.Column("measure:N", title=None),
            tooltip=["system", "measure", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(width=230, height=240)
    )
    st.altair_chart(chart)
    st.dataframe(table, hide_index=True)


def _evaluation_queries(model: MovieSearch) -> tuple[list | None, str]:
    """The uploaded labelled queries, or genre queries from the catalog's labels; (None, "") for neither."""
    upload = st.file_uploader(
        t('Queries file: JSON Lines of {{"qid", "query", "relevant": [ids]}}, up to {limit} MB', limit=UPLOAD_LIMIT_MB),
        key="queries_upload",
    )
    use_genres = st.button(t("Or use genre queries made from this catalog's labels"), key="genre_queries_button")
    if upload is not None:
        with tempfile.TemporaryDirectory(prefix="recsys-queries-") as folder:
            path = Path(folder) / "queries.jsonl"
            path.write_bytes(upload.getvalue())
            try:
                return read_queries(path), upload.name
            except RecsysError as err:
                st.error(t("This file cannot be used: {error}", error=err))
                return None, ""
    if use_genres or st.session_state.get("genre_queries"):
        st.session_state.genre_queries = True
        st.caption(
            t("recsys reads genres from a query, which favours it on these; upload your own queries for a fairer test.")
        )
        queries = genre_queries(model.catalog)
        if not queries:
            st.warning(t("No queries to evaluate."))
            return None, ""
        return queries, t("genre queries from the catalog's labels")
    return None, ""
