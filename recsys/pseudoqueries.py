"""Pseudo-queries: what training learns from, made from a catalog itself, with no hand labels.

Genre queries (the catalog's labels in its own words, synonyms, "<adjective> movies") → titles of those
genres; genre pairs ("romantic comedy") → titles with both; keywords and tags → tagged titles; a span of a
description → its title; a title → itself. Training and validation get queries from disjoint rows.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from recsys.catalog import Catalog
from recsys.evaluate import score_runs
from recsys.query import QueryParser, genre_pair_phrase, label_genres
from recsys.vocabulary import GENRE_ADJECTIVES, GENRE_SYNONYMS

SELF_SUPERVISED = ("description span", "title")  # sources that every catalog has, labelled or not


class PseudoQueries(NamedTuple):
    """Queries made from a catalog: their texts, the rows relevant to each, and what made them."""

    texts: list[str]
    positives: list[np.ndarray]
    sources: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def ndcg(self, scores: np.ndarray, rows: np.ndarray) -> float:
        """Mean over query sources of nDCG@10 of scores ``(Q, R)`` ranking ``rows`` for these queries."""
        top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
        by_source: dict[str, tuple[dict, dict]] = {}
        for i, source in enumerate(self.sources):
            relevant, ranked = by_source.setdefault(source, ({}, {}))
            relevant[str(i)] = [str(r) for r in self.positives[i]]
            ranked[str(i)] = [str(r) for r in rows[top[i]]]
        return float(np.mean([score_runs(rel, ran, ["ndcg@10"])["ndcg@10"] for rel, ran in by_source.values()]))


def split_rows(size: int, held_out: float, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation rows: a share ``held_out`` of the titles, drawn by ``rng``, is held out."""
    rows = list(range(size))
    rng.shuffle(rows)
    held = max(1, int(round(size * held_out)))
    return np.array(sorted(rows[held:]), dtype=np.int64), np.array(sorted(rows[:held]), dtype=np.int64)


def make_pseudo_queries(catalog: Catalog, rows: np.ndarray, rng: random.Random) -> PseudoQueries:
    """Build pseudo-queries whose relevant titles are among ``rows``.

    Parameters
    ----------
    catalog : Catalog
        The catalog; its genre labels, keywords, descriptions and titles supply the queries.
    rows : np.ndarray
        The rows queries may point to (the training or the validation split).
    rng : random.Random
        Chooses description spans.
    """
    frame = catalog.frame.iloc[rows]
    parser = QueryParser(catalog.genres(), set(catalog.frame["kind"]))
    queries: dict[str, tuple[set[int], str]] = {}

    def add(text: str, members: set[int], source: str) -> None:
        if members and text and text not in queries:
            queries[text] = (members, source)

    by_label, by_genre = group_by_genre(frame["genres"], rows)
    for label, members in sorted(by_label.items()):
        if len(members) >= 2:
            add(_label_text(label), members, "genre")
    for genre, members in sorted(by_genre.items()):
        for word in GENRE_SYNONYMS[genre][:3]:
            add(word, members, "genre")
        add(f"{GENRE_ADJECTIVES.get(genre, GENRE_SYNONYMS[genre][0])} movies", members, "genre")
    for first, second in _pairs(sorted(by_genre)):
        both = by_genre[first] & by_genre[second]
        if len(both) >= 5:
            add(genre_pair_phrase(first, second), both, "genre combination")
    by_keyword: dict[str, set[int]] = {}
    for row, keywords in zip(rows, frame["keywords"], strict=True):
        for keyword in keywords:
            by_keyword.setdefault(keyword.lower(), set()).add(int(row))
    for keyword, members in sorted(by_keyword.items()):
        if 2 <= len(members) <= max(2, len(rows) // 5):
            add(keyword, members, "keyword")
    for row, title, description in zip(rows, frame["title"], frame["description"], strict=True):
        add(_span(description, rng), {int(row)}, "description span")
        add(title, {int(row)}, "title")

    texts, positives, sources = [], [], []
    for text, (members, source) in queries.items():
        intents = parser.parse(text)
        allowed = catalog.mask(years=intents.years, kind=intents.kind)
        members = [m for m in members if allowed is None or allowed[m]]
        if members:
            texts.append(intents.text)
            positives.append(np.array(sorted(members), dtype=np.int64))
            sources.append(source)
    return PseudoQueries(texts, positives, sources)


def group_by_genre(labels: Iterable[list[str]], rows: Iterable[int]) -> tuple[dict, dict]:
    """The rows having each genre label, and each canonical genre (through :func:`label_genres`).

    >>> group_by_genre([["Sci-Fi & Fantasy"], ["Dramas", "Sci-Fi & Fantasy"]], [4, 7])
    ({'Sci-Fi & Fantasy': {4, 7}, 'Dramas': {7}}, {'Fantasy': {4, 7}, 'Science Fiction': {4, 7}, 'Drama': {7}})
    """
    by_label: dict[str, set[int]] = {}
    for row, row_labels in zip(rows, labels, strict=True):
        for label in row_labels:
            by_label.setdefault(label, set()).add(int(row))
    by_genre: dict[str, set[int]] = {}
    for label, members in by_label.items():
        for genre in sorted(label_genres(label)):
            by_genre.setdefault(genre, set()).update(members)
    return by_label, by_genre


def _span(description: str, rng: random.Random) -> str:
    """A sentence or a phrase of 5–12 words from a description."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", description) if len(s.split()) >= 4]
    if sentences and rng.random() < 0.5:
        return rng.choice(sentences)
    words = description.split()
    length = min(len(words), rng.randint(5, 12))
    begin = rng.randint(0, max(0, len(words) - length))
    return " ".join(words[begin : begin + length])


def _label_text(label: str) -> str:
    return " ".join(re.sub(r"[&/,]", " ", label).lower().split())


def _pairs(items: list[str]):
    return [(a, b) for i, a in enumerate(items) for b in items[i + 1 :]]
