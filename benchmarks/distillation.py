"""Multilingual distillation against query translation, on the Spanish free-text queries.

    python -m benchmarks.distillation [--epochs 2] [--json results.json]

Reimers & Gurevych (EMNLP 2020): a student encoder learns to map a Spanish sentence to its English teacher's
embedding. The parallel text is made from the default catalog: each description's sentences and three
random spans of 6–14 words, translated English → Spanish by Apertium (``eng-spa``). The titles of the
benchmark's free-text queries are left out, so the student never saw their text. The student starts as a
copy of the encoder and learns, for each pair, to bring its embeddings of the Spanish and of the English
to the teacher's embedding of the English (mean squared error, AdamW, linear warm-up and decay).

The 50 Spanish free-text queries of ``benchmarks/queries_es.json`` are then searched on the default model
with the query vector made from ``α · teacher(Apertium's translation) + (1 − α) · student(typed Spanish)``:
α = 1 is what recsys does, α = 0 the student alone. Readings (genres, years, countries) are made as usual.
Needs Apertium's ``apertium-en-es``; about 10 minutes on 2 cores for 2 epochs.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import machine
from benchmarks.spanish import QUERIES, scores
from recsys import MovieSearch
from recsys.catalog import Catalog
from recsys.default import default_model
from recsys.encoding import TextEncoder
from recsys.progress import progress_bar
from recsys.translate import Translator

SPANS_PER_DESCRIPTION = 3
SPAN_WORDS = (6, 14)
BATCH = 32
BLENDS = (1.0, 0.75, 0.5, 0.25, 0.0)  # α: the teacher's share, on the translation


def parallel_text(catalog: Catalog, excluded: set[str], translator: Translator, rng: random.Random) -> list:
    """(English, Spanish) pairs from the descriptions of the catalog's titles not in ``excluded``."""
    english = []
    for movie_id, description in zip(catalog.ids, catalog.frame["description"], strict=True):
        if movie_id in excluded:
            continue
        english += [s for s in re.split(r"(?<=[.!?])\s+", description.strip()) if len(s.split()) >= 4]
        words = description.split()
        for _ in range(SPANS_PER_DESCRIPTION if len(words) > SPAN_WORDS[0] else 0):
            length = rng.randint(SPAN_WORDS[0], min(SPAN_WORDS[1], len(words)))
            start = rng.randint(0, len(words) - length)
            english.append(" ".join(words[start : start + length]))
    english = list(dict.fromkeys(english))
    with progress_bar(True, len(english), "translating to Spanish", "text") as bar:
        pairs = []
        for text in english:
            pairs.append((text, translator.translate(text)))
            bar.update(1)
    return pairs


def distil(teacher: TextEncoder, pairs: list, epochs: int, learning_rate: float, seed: int) -> TextEncoder:
    """A student encoder trained to map both sides of each pair to the teacher's embedding of the English."""
    torch.manual_seed(seed)
    targets = torch.from_numpy(teacher.embed([english for english, _ in pairs], progress=True, desc="teacher"))
    encoder = copy.deepcopy(teacher.encoder)
    encoder.pretrained_name = None
    student = TextEncoder(teacher.tokenizer, encoder, teacher.batch_size, teacher.precision)
    encoder.train().requires_grad_(True)
    optimiser = torch.optim.AdamW(encoder.parameters(), lr=learning_rate)
    order, generator = np.arange(len(pairs)), np.random.default_rng(seed)
    steps = epochs * -(-len(order) // BATCH)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / (0.1 * steps)) * max(0.0, 1 - step / steps)
    )
    with progress_bar(True, steps, "distilling", "step") as bar:
        for _ in range(epochs):
            generator.shuffle(order)
            for start in range(0, len(order), BATCH):
                rows = order[start : start + BATCH]
                loss = sum(
                    ((student.embed_with_grad([pairs[i][side] for i in rows]) - targets[rows]) ** 2).sum(1).mean()
                    for side in (0, 1)
                )
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                bar.update(1)
                bar.set_postfix(loss=round(float(loss), 4))
    encoder.eval().requires_grad_(False)
    return student


class BlendedEncoder:
    """The model's encoder, except that a translated query's vector blends in the student's Spanish one.

    Parameters
    ----------
    teacher, student : TextEncoder
    sources : dict
        Each translated query text (what the engine encodes) → the typed Spanish it came from.
    alpha : float
        The teacher's share.
    """

    def __init__(self, teacher: TextEncoder, student: TextEncoder, sources: dict, alpha: float):
        self.teacher, self.student, self.sources, self.alpha = teacher, student, sources, alpha

    def __getattr__(self, name: str):
        return getattr(self.teacher, name)

    def embed(self, texts, **options) -> np.ndarray:
        """The teacher's embeddings, blended with the student's for translated queries; unit length."""
        vectors = self.teacher.embed(texts, **options)
        for n, text in enumerate(texts):
            if text in self.sources:
                blend = self.alpha * vectors[n] + (1 - self.alpha) * self.student.embed([self.sources[text]])[0]
                vectors[n] = blend / np.linalg.norm(blend)
        return vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    translator = Translator.find("eng-spa")
    if translator is None:
        raise SystemExit("this benchmark needs Apertium's English–Spanish pair: install apertium-en-es")
    model = MovieSearch.load(default_model())
    snippets = QUERIES["snippets"]
    pairs = parallel_text(model.catalog, {item["id"] for item in snippets}, translator, random.Random(args.seed))
    student = distil(model.encoder, pairs, args.epochs, args.learning_rate, args.seed)
    spanish = [(item["spanish"], [item["id"]]) for item in snippets]
    sources = {}
    for query, _ in spanish:
        intent = model.understand(query)
        sources[intent.text] = intent.source_text or intent.text
    results = {"machine": machine(), "parallel pairs": len(pairs), "epochs": args.epochs,
               "English nDCG@10": scores([(item["english"], [item["id"]]) for item in snippets],
                                         [[h.id for h in hits] for hits in model.search_many(
                                             [item["english"] for item in snippets], k=100)])["ndcg@10"]}  # fmt: skip
    for alpha in BLENDS:
        blended = replace(model, encoder=BlendedEncoder(model.encoder, student, sources, alpha))
        runs = [[hit.id for hit in hits] for hits in blended.search_many([q for q, _ in spanish], k=100)]
        results[f"Spanish nDCG@10, α={alpha}"] = scores(spanish, runs)["ndcg@10"]
    print(json.dumps(results, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
