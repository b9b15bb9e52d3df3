"""recsys in the browser: search, recommendations from likes, catalogs, retraining, evaluation.

UI only; everything it shows comes from the ``recsys`` package. Run with ``streamlit run app.py``.
"""

from __future__ import annotations

import html
import tempfile
import time
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from recsys import CatalogError, MovieSearch, RecsysError, load_catalog
from recsys.catalog import SUFFIXES, safe_file_name
from recsys.default import ROOT, default_model
from recsys.evaluate import compare_systems, genre_queries, read_queries
from recsys.jobs import RetrainJob

PAGES = ["Search", "Recommendations", "Catalog", "Retrain", "Evaluate"]
EXAMPLES = [
    "sci-fi about first contact with aliens",
    "90s romantic comedy",
    "haunted house horror",
    "animated series for kids",
    "heist gone wrong",
    "documentary about music",
]
UPLOAD_LIMIT_MB = 50  # .streamlit/config.toml sets the same server.maxUploadSize
MODELS = ROOT / "models"

st.set_page_config(page_title="recsys — movie search with attention", page_icon="🎬", layout="wide")


# -- models, loaded once per process ---------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def default_path() -> str:
    """The default model's directory; the first start builds it, with a progress bar."""
    bar = st.progress(0.0, text="First start: building the default model of data/movies.csv (about a minute)")

    def report(stage: str, done: int, total: int, figures: dict) -> None:
        bar.progress(min(done / total, 1.0) if total else 0.0, text=f"First start: {stage} ({done:,} of {total:,})")

    path = default_model(progress=report)
    bar.empty()
    return str(path)


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def load_model(path: str) -> MovieSearch:
    """A model directory, loaded once and shared by every session."""
    return MovieSearch.load(path)


def current_model() -> MovieSearch:
    """The model this session serves (the default one until a catalog is indexed or a retrain wins)."""
    if "model_dir" not in st.session_state:
        st.session_state.model_dir = default_path()
    return load_model(st.session_state.model_dir)


# -- small pieces of UI ----------------------------------------------------------------------------------


def highlighted(text: str, words, top: int = 8, colour: str = "234, 88, 12") -> str:
    """HTML of ``text`` with its ``top`` highest-share words marked, colour strength proportional to share."""
    chosen = [w for w in words[:top] if w.share > 0 and w.end > w.start]
    largest = max((w.share for w in chosen), default=0.0)
    parts, cursor = [], 0
    for word in sorted(chosen, key=lambda w: w.start):
        strength = 0.12 + 0.6 * word.share / largest
        parts.append(html.escape(text[cursor : word.start]))
        parts.append(
            f'<mark title="share {word.share:+.4f}" style="background: rgba({colour}, {strength:.2f}); '
            f'color: inherit; padding: 0 2px; border-radius: 3px">{html.escape(text[word.start : word.end])}</mark>'
        )
        cursor = word.end
    parts.append(html.escape(text[cursor:]))
    return "".join(parts)


def mean_shares(explanations) -> list:
    """The query's words with their share averaged over several results' explanations, largest first."""
    totals: dict[tuple[int, int], list] = {}
    for explanation in explanations:
        for word in explanation.query_words:
            totals.setdefault((word.start, word.end), [word, 0.0])[1] += word.share / len(explanations)
    return sorted((word._replace(share=share) for word, share in totals.values()), key=lambda w: -w.share)


def pair_heatmap(explanation, columns: int = 14) -> alt.Chart:
    """Query words × the description words with the largest shares: each cell a word pair's share."""
    top = sorted(range(len(explanation.grid_movie)), key=lambda j: -sum(row[j] for row in explanation.grid))
    top = sorted(top[:columns])
    cells = [
        {"query word": q, "description word": f"{explanation.grid_movie[j]} ·{j}", "share": row[j]}
        for q, row in zip(explanation.grid_query, explanation.grid, strict=True)
        for j in top
    ]
    order = [f"{explanation.grid_movie[j]} ·{j}" for j in top]
    return (
        alt.Chart(pd.DataFrame(cells))
        .mark_rect()
        .encode(
            x=alt.X("description word:N", sort=order, axis=alt.Axis(labelAngle=-45)),
            y=alt.Y("query word:N", sort=explanation.grid_query),
            color=alt.Color("share:Q", scale=alt.Scale(scheme="oranges")),
            tooltip=["query word", "description word", alt.Tooltip("share:Q", format="+.4f")],
        )
        # A band height per row (alt.Step): a fixed total height is squeezed to nothing by the container.
        .properties(height=alt.Step(28), title="Which word pairs drove the score")
    )


def attention_heatmap(model: MovieSearch, text: str, key: str) -> None:
    """The encoder's own self-attention for a text, one layer and head at a time."""
    maps = model.attention_maps(text)
    layers, heads = maps.attention.shape[:2]
    left, right = st.columns(2)
    layer = left.slider("layer", 1, layers, layers, key=f"{key}-layer")
    head = right.slider("head", 1, heads, 1, key=f"{key}-head")
    tokens = [f"{token} ·{i}" for i, token in enumerate(maps.tokens)]
    weights = maps.attention[layer - 1, head - 1]
    cells = [
        {"from": tokens[i], "to": tokens[j], "weight": float(weights[i, j])}
        for i in range(len(tokens))
        for j in range(len(tokens))
    ]
    chart = (
        alt.Chart(pd.DataFrame(cells))
        .mark_rect()
        .encode(
            x=alt.X("to:N", sort=tokens, axis=alt.Axis(labelAngle=-60)),
            y=alt.Y("from:N", sort=tokens),
            color=alt.Color("weight:Q", scale=alt.Scale(scheme="blues")),
            tooltip=["from", "to", alt.Tooltip("weight:Q", format=".3f")],
        )
        .properties(height=alt.Step(14), title=f"Encoder self-attention, layer {layer}, head {head}")
    )
    st.altair_chart(chart, width="stretch")


def like(movie_id: str) -> None:
    """Add a title to this session's likes."""
    liked = st.session_state.setdefault("liked", [])
    if movie_id not in liked:
        liked.append(movie_id)


def more_like(movie_id: str) -> None:
    """Show titles like this one on the Search page."""
    st.session_state.more_like = movie_id


def card(model: MovieSearch, hit, rank: int, best: float, explanation=None, reason: str | None = None) -> None:
    """One result: title, year, genres, description with its words marked, score bar, weight, actions."""
    row = model.title(hit.id)
    with st.container(border=True):
        head, actions = st.columns([5, 1])
        year = f" ({hit.year})" if hit.year else ""
        head.markdown(f"**{rank}. {html.escape(hit.title)}**{year} · {row['kind']} · {', '.join(hit.genres)}")
        head.progress(
            max(min(hit.score / best, 1.0), 0.0) if best > 0 else 0.0,
            text=f"score {hit.score:.3f} · attention weight {hit.weight:.1%}",
        )
        liked = hit.id in st.session_state.get("liked", [])
        actions.button(
            "♥ Liked" if liked else "♡ Like",
            key=f"like-{hit.id}-{rank}",
            on_click=like,
            args=(hit.id,),
            disabled=liked,
            width="stretch",
        )
        actions.button(
            "More like this", key=f"more-{hit.id}-{rank}", on_click=more_like, args=(hit.id,), width="stretch"
        )
        if reason:
            st.caption(reason)
        if explanation is None:
            st.write(row["description"])
            return
        description = explanation.movie_text
        st.markdown(highlighted(description, explanation.movie_words), unsafe_allow_html=True)
        # A toggle, not an expander: charts drawn while hidden (in a closed expander) come out 0 px high.
        if st.toggle("Why this match", key=f"why-{hit.id}-{rank}"):
            why_panel(model, explanation, key=f"{hit.id}-{rank}")


def why_panel(model: MovieSearch, explanation, key: str) -> None:
    """The score's parts, the query words for this title, the word-pair heatmap, the encoder's attention."""
    with st.container(border=True):
        parts = [f"attention {explanation.dense:+.4f}"]
        parts += [f"BM25 '{term}' {value:+.4f}" for term, value in explanation.lexical]
        parts += [f"{name} {value:+.4f}" for name, value in explanation.boosts]
        st.markdown(f"score {explanation.score:.4f} = " + " + ".join(parts))
        st.markdown(
            "Query, for this title: " + highlighted(explanation.query_text, explanation.query_words),
            unsafe_allow_html=True,
        )
        st.altair_chart(pair_heatmap(explanation), width="stretch")
        st.caption(
            f"{explanation.carried_movie:+.4f} of the description's shares came through punctuation, "
            "stop words and [CLS]/[SEP] and is credited to the words they gathered from."
        )
        if st.toggle("Show the encoder's own attention", key=f"att-{key}"):
            attention_heatmap(model, explanation.movie_text, key=f"att-{key}")


# -- pages -----------------------------------------------------------------------------------------------


def set_query(text: str) -> None:
    """Put an example query in the search box."""
    st.session_state.query = text
    st.session_state.pop("more_like", None)


def search_page(model: MovieSearch) -> None:
    """Query box, examples, filters, what was understood, results with their explanations."""
    st.title("Search")
    st.text_input("What would you like to watch?", key="query", placeholder="sci-fi about first contact with aliens")
    examples = st.columns(3)
    for column, example in zip(examples * 2, EXAMPLES, strict=True):
        column.button(example, key=f"example-{example}", on_click=set_query, args=(example,), width="stretch")
    frame = model.catalog.frame
    years = frame["year"].dropna()
    with st.expander("Filters"):
        left, middle, right = st.columns([3, 3, 1])
        genres = left.multiselect("Genres (any of them)", model.catalog.genres(), key="genres")
        low, high = (int(years.min()), int(years.max())) if len(years) else (1900, 2030)
        chosen = middle.slider("Years", low, high, (low, high), key="years") if low < high else (low, high)
        kinds = ["any", *sorted(set(frame["kind"]))]
        kind = right.selectbox("Kind", kinds, key="kind")
    filters = {
        "genres": genres or None,
        "years": None if chosen == (low, high) else chosen,
        "kind": None if kind == "any" else kind,
    }
    if st.session_state.get("more_like"):
        return more_like_results(model, st.session_state.more_like)
    query = st.session_state.get("query", "").strip()
    if not query:
        st.info("Type what you are in the mood for, or pick an example above.")
        return
    started = time.perf_counter()
    try:
        hits = model.search(query, k=10, **filters)
        explanations = model.explain_many(query, [hit.id for hit in hits]) if hits else []
    except RecsysError as err:
        st.error(str(err))
        return
    elapsed = time.perf_counter() - started
    understood = model.understand(query).explained
    st.caption(
        ("Understood as: " + "; ".join(understood) + " · " if understood else "")
        + f"{len(hits)} results in {1000 * elapsed:.0f} ms"
    )
    if not hits:
        st.warning("No title matches these filters.")
        return
    st.markdown(
        "Your query, its words marked by their mean share over these results: "
        + highlighted(explanations[0].query_text, mean_shares(explanations)),
        unsafe_allow_html=True,
    )
    best = max(hit.score for hit in hits)
    for rank, (hit, explanation) in enumerate(zip(hits, explanations, strict=True), start=1):
        card(model, hit, rank, best, explanation)


def more_like_results(model: MovieSearch, movie_id: str) -> None:
    """Titles drawn by attention from one title."""
    title = model.title(movie_id)["title"]
    st.subheader(f"More like {title}")
    st.button("← Back to the search", on_click=st.session_state.pop, args=("more_like", None))
    found = model.recommend([movie_id], k=10)
    best = max((item.score for item in found), default=0.0)
    for rank, item in enumerate(found, start=1):
        card(model, item, rank, best)


def recommendations_page(model: MovieSearch) -> None:
    """The liked titles and what attention from them recommends."""
    st.title("Recommendations from your likes")
    liked = [movie_id for movie_id in st.session_state.get("liked", []) if movie_id in model]
    if not liked:
        st.info("Mark titles with ♡ Like on the Search page, then come back here.")
        return
    st.write("You liked:")
    for movie_id in liked:
        left, right = st.columns([6, 1])
        left.markdown(f"- {html.escape(model.title(movie_id)['title'])}")
        right.button("Remove", key=f"unlike-{movie_id}", on_click=st.session_state.liked.remove, args=(movie_id,))
    if st.button("Recommend from my likes", type="primary", key="recommend") or st.session_state.get("recommended"):
        st.session_state.recommended = True
        found = model.recommend(liked, k=10)
        best = max((item.score for item in found), default=0.0)
        for rank, item in enumerate(found, start=1):
            card(model, item, rank, best, reason=f"Because you liked {item.because}")


def catalog_page(model: MovieSearch) -> None:
    """Upload, check, preview and index a catalog."""
    st.title("Catalog")
    st.write(f"Serving **{model.catalog.source}**: {len(model.catalog):,} titles.")
    # No type filter in the widget: the loader names what it accepts, in the same words as the command line.
    upload = st.file_uploader(
        f"Upload a catalog: CSV, TSV, JSON Lines or Parquet ({', '.join(SUFFIXES)}), up to {UPLOAD_LIMIT_MB} MB",
        key="catalog_upload",
    )
    if upload is None:
        st.caption(
            "Columns are recognised by name: id, title, description/overview/plot, genres/listed_in, "
            "year/release_year, type/kind, keywords/tags."
        )
        return
    path = Path(tempfile.mkdtemp(prefix="recsys-upload-")) / safe_file_name(upload.name)
    path.write_bytes(upload.getvalue())
    try:
        catalog = load_catalog(path)
    except CatalogError as err:
        st.error(f"This file cannot be used: {err}")
        return
    st.success(f"{path.name}: {len(catalog):,} titles read, {len(catalog.skipped)} rows skipped.")
    st.write("Recognised columns: " + ", ".join(f"{field} ← `{column}`" for field, column in catalog.columns.items()))
    for row, reason in catalog.skipped[:20]:
        st.warning(f"Row {row} skipped: {reason}")
    for note in catalog.notes[:20]:
        st.caption(f"Note: {note}")
    st.dataframe(catalog.frame.head(50), width="stretch", hide_index=True)
    if st.button("Index this catalog", type="primary", key="index_catalog"):
        bar = st.progress(0.0, text="Indexing…")

        def report(stage: str, done: int, total: int, figures: dict) -> None:
            bar.progress(min(done / total, 1.0) if total else 0.0, text=f"{stage} ({done:,} of {total:,})")

        base = load_model(default_path())
        built = MovieSearch.build(catalog, base=base, progress=report)
        out = MODELS / "uploads" / f"{path.stem}-{catalog.fingerprint()[:10]}"
        built.save(out)
        st.session_state.model_dir = str(out)
        bar.empty()
        st.success(f"Indexed {len(catalog):,} titles. The Search page now searches {path.name}.")


def retrain_page(model: MovieSearch) -> None:
    """Retrain the head on the served catalog in the background."""
    st.title("Retrain")
    st.write(
        f"Train the attention head on **{model.catalog.source}** ({len(model.catalog):,} titles) from "
        "pseudo-queries made from the catalog itself. The current model keeps answering meanwhile; the "
        "new one replaces it only if it finished and is better on the held-out titles."
    )
    job: RetrainJob | None = st.session_state.get("job")
    running = job is not None and job.snapshot().status == "running"
    epochs = st.slider("Epochs (at most; training stops early when validation stops improving)", 1, 40, 20)
    if st.button("Start retraining", type="primary", disabled=running, key="start_retrain"):
        from recsys.train import TrainConfig

        out = MODELS / "retrained" / f"{Path(model.catalog.source).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
        st.session_state.job = RetrainJob(model, out, TrainConfig(epochs=epochs)).start()
        st.session_state.job_model = st.session_state.model_dir
    if st.session_state.get("job") is not None:
        job_progress()


@st.fragment(run_every=1.0)
def job_progress() -> None:
    """The retraining job's progress and validation curve, refreshed every second."""
    job: RetrainJob = st.session_state.job
    state = job.snapshot()
    fraction = min(state.done / state.total, 1.0) if state.total else 0.0
    if state.status == "running":
        st.progress(fraction, text=f"{state.stage}: {state.done:,} of {state.total:,} steps")
    else:
        st.progress(1.0, text=f"{state.stage}: stopped after {state.done:,} of {state.total:,} steps")
    if state.validation:
        frame = pd.DataFrame({"epoch": range(1, len(state.validation) + 1), "validation nDCG@10": state.validation})
        st.line_chart(frame, x="epoch", y="validation nDCG@10", height=220)
    if state.status == "running":
        st.caption("Training… the current model keeps serving searches.")
        return
    if state.status == "failed":
        st.error(f"Training failed; the current model keeps serving. {state.error}")
    elif state.status == "better":
        if st.session_state.get("model_dir") == st.session_state.get("job_model"):
            st.session_state.model_dir = str(state.result)
        st.success(
            f"Done in {state.seconds:.0f} s: validation nDCG@10 {state.served_validation:.4f} → "
            f"{state.new_validation:.4f}. The new model is serving now."
        )
    else:
        st.info(
            f"Done in {state.seconds:.0f} s: the new head was not better on the held-out titles "
            f"({state.new_validation:.4f} against {state.served_validation:.4f}); the current model keeps serving."
        )


def evaluate_page(model: MovieSearch) -> None:
    """Compare recsys with BM25 and sentence-transformers + FAISS on labelled queries."""
    st.title("Evaluate")
    st.write(
        "nDCG@10, Recall@100 and MRR@10 of recsys against BM25 and sentence-transformers + FAISS "
        "(the same MiniLM embeddings, exhaustive cosine search) on the same queries."
    )
    upload = st.file_uploader(
        f'Queries file: JSON Lines of {{"qid", "query", "relevant": [ids]}}, up to {UPLOAD_LIMIT_MB} MB',
        key="queries_upload",
    )
    use_genres = st.button("Or use genre queries made from this catalog's labels", key="genre_queries_button")
    if upload is not None:
        path = Path(tempfile.mkdtemp(prefix="recsys-queries-")) / "queries.jsonl"
        path.write_bytes(upload.getvalue())
        try:
            queries, what = read_queries(path), upload.name
        except RecsysError as err:
            st.error(f"This file cannot be used: {err}")
            return
    elif use_genres or st.session_state.get("genre_queries"):
        st.session_state.genre_queries = True
        queries, what = genre_queries(model.catalog), "genre queries from the catalog's labels"
        st.caption(
            "recsys reads genres from a query, which favours it on these; upload your own queries for a fairer test."
        )
    else:
        return
    if not queries:
        st.warning("No queries to evaluate.")
        return
    try:
        scores = compare_systems(model, queries)
    except RecsysError as err:
        st.error(str(err))
        return
    st.write(f"{len(queries)} queries ({what}).")
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


def main() -> None:
    """The sidebar and the chosen page."""
    model = current_model()
    with st.sidebar:
        st.header("recsys")
        page = st.radio("Page", PAGES, key="page", label_visibility="collapsed")
        st.divider()
        st.caption(f"Catalog: {model.catalog.source} · {len(model.catalog):,} titles")
        st.caption(
            f"Head: {model.metrics.get('chosen', 'untrained')} · liked: {len(st.session_state.get('liked', []))}"
        )
        if st.session_state.get("model_dir") != default_path():
            st.button(
                "Back to the default catalog", on_click=st.session_state.update, args=({"model_dir": default_path()},)
            )
    {
        "Search": search_page,
        "Recommendations": recommendations_page,
        "Catalog": catalog_page,
        "Retrain": retrain_page,
        "Evaluate": evaluate_page,
    }[page](model)


main()
