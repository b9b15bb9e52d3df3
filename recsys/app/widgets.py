"""The app's pieces: result cards with marked words, the word-pair and self-attention heatmaps, job progress."""

from __future__ import annotations

import html
import re
from urllib.parse import quote_plus

import altair as alt
import pandas as pd
import streamlit as st

from recsys import MovieSearch
from recsys.app.messages import t
from recsys.jobs import BackgroundJob, JobState


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


def mean_shares(explanations, side: str = "query_words") -> list:
    """The query's words with their share averaged over several results' explanations, largest first.

    ``side="source_words"``: the words typed before translation, for a translated query.
    """
    totals: dict[tuple[int, int, str], list] = {}
    for explanation in explanations:
        for word in getattr(explanation, side):
            totals.setdefault((word.start, word.end, word.word), [word, 0.0])[1] += word.share / len(explanations)
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
        .properties(height=alt.Step(28), title=t("Which word pairs drove the score"))
    )


def self_attention_heatmap(model: MovieSearch, text: str, key: str) -> None:
    """The encoder's own self-attention for a text, one layer and head at a time."""
    maps = model.encoder.self_attention_maps(text)
    layers, heads = maps.self_attention.shape[:2]
    left, right = st.columns(2)
    layer = left.slider(t("layer"), 1, layers, layers, key=f"{key}-layer")
    head = right.slider(t("head"), 1, heads, 1, key=f"{key}-head")
    tokens = [f"{token} ·{i}" for i, token in enumerate(maps.tokens)]
    weights = maps.self_attention[layer - 1, head - 1]
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
        .properties(
            height=alt.Step(14), title=t("Encoder self-attention, layer {layer}, head {head}", layer=layer, head=head)
        )  # fmt: skip
    )
    st.altair_chart(chart, width="stretch")


def like(movie_id: str) -> None:
    """Add a title to this session's likes."""
    liked = st.session_state.setdefault("liked", [])
    if movie_id not in liked:
        liked.append(movie_id)


def dislike(movie_id: str) -> None:
    """Add a title to this session's "less like this" titles (and take it out of the likes)."""
    disliked = st.session_state.setdefault("disliked", [])
    if movie_id not in disliked:
        disliked.append(movie_id)
    if movie_id in st.session_state.get("liked", []):
        st.session_state.liked.remove(movie_id)


def more_like(movie_id: str) -> None:
    """Show titles like this one on the Search page."""
    st.session_state.more_like = movie_id


def person_link(name: str) -> str:
    """Markdown link to a search for a person."""
    return f"[{_markdown_text(name)}](?q={quote_plus(name)})"


def _markdown_text(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text)


def facts_line(row: dict) -> str:
    """A title's people (linked to a search for each), countries, length and maturity in one Markdown line."""
    parts = []
    if len(row["directors"]):
        parts.append(t("Directed by ") + ", ".join(map(person_link, row["directors"][:3])))
    if len(row["cast"]):
        parts.append(t("Starring ") + ", ".join(map(person_link, row["cast"][:4])))
    if len(row["countries"]):
        parts.append(_markdown_text(", ".join(row["countries"][:3])))
    if pd.notna(row["runtime"]):
        parts.append(t("{minutes} min", minutes=row["runtime"]))
    if pd.notna(row["seasons"]):
        parts.append(t("{count} season" if row["seasons"] == 1 else "{count} seasons", count=row["seasons"]))
    if row["maturity"]:
        parts.append(_markdown_text(row["maturity"]))
    return " · ".join(parts)


def card(
    model: MovieSearch, hit, rank: int, best: float, explanation=None, reason: str | None = None,
    less_like: bool = False,
) -> None:  # fmt: skip
    """One result: title, year, genres, description with its words marked, score bar, weight, actions.

    ``less_like`` adds a "Less like this" action (on recommendations).
    """
    row = model.title(hit.id)
    with st.container(border=True):
        head, actions = st.columns([5, 1])
        year = f" ({hit.year})" if hit.year else ""
        head.markdown(f"**{rank}. {html.escape(hit.title)}**{year} · {t(row['kind'])} · {', '.join(hit.genres)}")
        head.progress(
            max(min(hit.score / best, 1.0), 0.0) if best > 0 else 0.0,
            text=t("score {score:.3f} · attention weight {weight:.1%}", score=hit.score, weight=hit.weight),
        )
        liked = hit.id in st.session_state.get("liked", [])
        actions.button(t("♥ Liked") if liked else t("♡ Like"), key=f"like-{hit.id}-{rank}", on_click=like,
                       args=(hit.id,), disabled=liked, width="stretch")  # fmt: skip
        actions.button(t("More like this"), key=f"more-{hit.id}-{rank}", on_click=more_like, args=(hit.id,),
                       width="stretch")  # fmt: skip
        if less_like:
            actions.button(t("Less like this"), key=f"less-{hit.id}-{rank}", on_click=dislike, args=(hit.id,),
                           width="stretch")  # fmt: skip
        if facts := facts_line(row):
            st.caption(facts)
        if reason:
            st.caption(reason)
        if explanation is None:
            st.write(row["description"])
            return
        st.markdown(highlighted(explanation.movie_text, explanation.movie_words), unsafe_allow_html=True)
        # A toggle, not an expander: charts drawn while hidden (in a closed expander) come out 0 px high.
        if st.toggle(t("Why this match"), key=f"why-{hit.id}-{rank}"):
            why_panel(model, explanation, key=f"{hit.id}-{rank}")


def why_panel(model: MovieSearch, explanation, key: str) -> None:
    """The score's parts, the query words for this title, the word-pair heatmap, the encoder's self-attention."""
    with st.container(border=True):
        parts = [f"attention {explanation.dense:+.4f}"]
        parts += [f"BM25 '{term}' {value:+.4f}" for term, value in explanation.lexical]
        parts += [f"{name} {value:+.4f}" for name, value in explanation.boosts]
        st.markdown(f"score {explanation.score:.4f} = " + " + ".join(parts))
        st.markdown(
            t("Query, for this title: ") + highlighted(explanation.query_text, explanation.query_words),
            unsafe_allow_html=True,
        )
        st.altair_chart(pair_heatmap(explanation), width="stretch")
        st.caption(
            t("{carried:+.4f} of the description's shares came through punctuation, stop words and [CLS]/[SEP] and is "
              "credited to the words they gathered from.", carried=explanation.carried_movie)
        )  # fmt: skip
        if st.toggle(t("Show the encoder's own self-attention"), key=f"att-{key}"):
            self_attention_heatmap(model, explanation.movie_text, key=f"att-{key}")


def validation_curves(state: JobState) -> pd.DataFrame:
    """The held-out scores by epoch, one curve per head trained (and per other model), one row per epoch."""
    curves = pd.Series([t(stage) + ("" if head is None else f" {head}") for stage, head in state.validation_series])
    return pd.DataFrame({
        t("curve"): curves,
        t("epoch"): curves.groupby(curves).cumcount() + 1,
        t("validation nDCG@10"): state.validation,
    })  # fmt: skip


def job_bar(job: BackgroundJob, doing: str) -> JobState:
    """A background job's progress bar, validation curve and status line; return the job's state.

    ``doing`` names the work in the lines shown while it runs or if it failed ("Training").
    """
    state = job.snapshot()
    fraction = min(state.done / state.total, 1.0) if state.total else 0.0
    if state.status == "running":
        st.progress(fraction, text=t("{stage}: {done:,} of {total:,}", stage=t(state.stage), done=state.done,
                                     total=state.total))  # fmt: skip
    else:
        st.progress(1.0, text=t("{stage}: stopped after {done:,} of {total:,}", stage=t(state.stage), done=state.done,
                                total=state.total))  # fmt: skip
    if state.validation:
        st.line_chart(validation_curves(state), x=t("epoch"), y=t("validation nDCG@10"), color=t("curve"), height=220)
    if state.status == "running":
        st.caption(t("{doing}… the current model keeps serving searches.", doing=doing))
    elif state.status == "failed":
        st.error(t("{doing} failed; the current model keeps serving. {error}", doing=doing, error=state.error))
    return state
