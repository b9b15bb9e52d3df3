"""The ``recsys`` command: a stable contract that scripts and tests outside the project rely on.

Exit codes: 0 success; 1 the input, model or query was refused (one line on standard error says why);
2 the command line itself is wrong; 70 an internal error (set RECSYS_DEBUG=1 for the traceback);
130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from recsys.catalog import Catalog
from recsys.default import default_model
from recsys.documents import batch_documents, recommend_document, search_document
from recsys.encoding import PRECISIONS
from recsys.engine import Hit, MovieSearch
from recsys.errors import QueryError, RecsysError
from recsys.evaluate import read_jsonl, read_queries, score_runs
from recsys.files import load_catalog
from recsys.index import INDEX_TYPES
from recsys.interactions import LIKE_THRESHOLD, read_interactions
from recsys.train import TrainConfig, train_catalog


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except RecsysError as err:
        print(f"recsys: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("recsys: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # the user gets one line; developers ask for the traceback
        if os.environ.get("RECSYS_DEBUG"):
            raise
        print(f"recsys: internal error: {type(err).__name__}: {err} (set RECSYS_DEBUG=1 for details)", file=sys.stderr)
        return 70
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="recsys", description="Movie retrieval with attention.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_building_commands(commands)
    _add_query_commands(commands)
    _add_update_commands(commands)
    _add_serving_command(commands)
    return parser


def _add_building_commands(commands) -> None:
    """check, index, train: read a catalog, and make a model of it."""
    check = commands.add_parser("check", help="read a catalog and report what would be indexed, without indexing")
    check.add_argument("catalog", metavar="CATALOG", help="CSV, TSV, JSON Lines or Parquet file")
    check.set_defaults(run=_run_check)

    index = _catalog_command(commands, "index", "embed and index a catalog (no training)")
    index.add_argument(
        "--model",
        metavar="DIR|default",
        help="reuse this model's encoder and head (default: pretrained encoder, untrained head)",
    )
    index.add_argument(
        "--encoder",
        choices=("minilm", "tiny"),
        default="minilm",
        help="encoder when --model is not given (default: minilm)",
    )
    index.set_defaults(run=_run_index)

    training = _catalog_command(commands, "train", "retrain the attention head on a catalog, then index it")
    training.add_argument(
        "--init",
        default="default",
        metavar="DIR|default|none",
        help="model to start from (default: the project's default model; none: the untrained head)",
    )
    training.add_argument("--epochs", type=int, default=TrainConfig.epochs, metavar="N")
    training.add_argument("--seed", type=int, default=TrainConfig.seed)
    training.add_argument(
        "--heads",
        type=int,
        choices=range(1, 9),
        default=TrainConfig.ensemble,
        metavar="N",
        help=f"heads trained from seeds S, S+1, … and averaged, 1 to 8 (default: {TrainConfig.ensemble})",
    )
    training.add_argument(
        "--fine-tune-layers",
        type=int,
        default=0,
        metavar="N",
        help="also fine-tune the top N encoder layers (slower; kept only if validation improves)",
    )
    training.add_argument(
        "--interactions",
        metavar="FILE",
        help="ratings, watches or likes (user, item, optional rating and timestamp columns): recommendations "
        "then learn from them",
    )
    training.add_argument(
        "--like-threshold",
        type=float,
        default=LIKE_THRESHOLD,
        metavar="X",
        help=f"ratings at or above this are likes (default: {LIKE_THRESHOLD:g})",
    )
    training.set_defaults(run=_run_train)


def _add_query_commands(commands) -> None:
    """eval, explain, recommend, search: ask a model."""
    evaluation = commands.add_parser("eval", help="nDCG@10, Recall@100, MRR@10 on a labelled query set")
    _model_option(evaluation)
    evaluation.add_argument(
        "--queries",
        required=True,
        metavar="QUERIES.jsonl",
        help='one {"qid", "query", "relevant": [ids]} object per line',
    )
    evaluation.add_argument("--json", action="store_true", help="print JSON only")
    evaluation.set_defaults(run=_run_eval)

    explain = commands.add_parser("explain", help="which words drove a match: the score split over words")
    explain.add_argument("query", metavar="QUERY")
    _model_option(explain)
    target = explain.add_mutually_exclusive_group(required=True)
    target.add_argument("--id", metavar="MOVIE_ID", help="a title of the model's catalog")
    target.add_argument("--text", metavar="DESCRIPTION", help="any description")
    explain.add_argument("--json", action="store_true", help="print JSON only")
    explain.set_defaults(run=_run_explain)

    recommend = commands.add_parser("recommend", help="titles like the ones you liked, by attention from them")
    recommend.add_argument("liked", nargs="+", metavar="ID", help="ids of liked titles, oldest first")
    recommend.add_argument("--disliked", nargs="+", default=[], metavar="ID", help="less like these titles")
    _model_option(recommend)
    recommend.add_argument("-k", type=int, default=10, help="number of results (default: 10)")
    recommend.add_argument("--json", action="store_true", help="print JSON only")
    recommend.set_defaults(run=_run_recommend)

    search = commands.add_parser("search", help="rank a model's catalog for a query")
    search.add_argument("query", nargs="?", metavar="QUERY")
    _model_option(search)
    search.add_argument("--batch", metavar="QUERIES.jsonl", help='one {"qid", "query"} object per line')
    search.add_argument("-k", type=int, default=None, help="results per query (default 10; 100 with --batch)")
    search.add_argument("--genre", action="append", metavar="G", help="keep titles of this genre (repeatable)")
    search.add_argument("--year-min", type=int, metavar="Y")
    search.add_argument("--year-max", type=int, metavar="Y")
    search.add_argument("--kind", metavar="K", help="movie or series")
    search.add_argument("--country", action="append", metavar="C", help="keep titles made in C (repeatable)")
    search.add_argument("--rating", action="append", metavar="R", help="keep titles rated R, e.g. PG-13 (repeatable)")
    search.add_argument("--max-runtime", type=int, metavar="MIN", help="keep titles of at most MIN minutes")
    search.add_argument("--exclude-genre", action="append", metavar="G", help="leave out titles of genre G")
    search.add_argument(
        "--ignore", action="append", metavar="KEY", help="drop a reading of the query by its key (see --json)"
    )
    search.add_argument("--lang", choices=["auto", "en", "es"], default="auto", help="the query's language")
    search.add_argument("--json", action="store_true", help="print JSON only")
    search.set_defaults(run=_run_search)


def _add_serving_command(commands) -> None:
    """serve: the HTTP API."""
    serving = commands.add_parser("serve", help="the HTTP API (OpenAPI docs at /docs)")
    _model_option(serving)
    serving.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serving.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serving.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes (default: 1)")
    serving.add_argument(
        "--token-file",
        metavar="FILE",
        help="bearer token for writes if RECSYS_API_TOKEN is unset (neither: no writes)",
    )
    serving.set_defaults(run=_run_serve)


def _run_serve(args: argparse.Namespace) -> None:
    from recsys.api import serve  # FastAPI and uvicorn load only for this command

    if args.workers < 1:
        raise QueryError("--workers must be 1 or more")
    model = _resolve_model(args.model)
    print(f"serving {model} on http://{args.host}:{args.port} (docs: /docs); Ctrl+C stops")
    serve(model, args.host, args.port, args.workers, Path(args.token_file) if args.token_file else None)


def _add_update_commands(commands) -> None:
    """add, remove: change a model's titles without rebuilding it."""
    add = commands.add_parser("add", help="add titles to a model without rebuilding it")
    add.add_argument("model", metavar="DIR")
    add.add_argument("catalog", metavar="CATALOG_ROWS", help="a catalog file with the new titles")
    add.add_argument("--quiet", action="store_true", help="no progress bars")
    add.set_defaults(run=_run_add)

    remove = commands.add_parser("remove", help="remove titles from a model without rebuilding it")
    remove.add_argument("model", metavar="DIR")
    remove.add_argument("ids", nargs="+", metavar="ID")
    remove.set_defaults(run=_run_remove)


def _catalog_command(commands, name: str, help_text: str) -> argparse.ArgumentParser:
    """A command that reads a catalog and writes a model directory."""
    command = commands.add_parser(name, help=help_text)
    command.add_argument("catalog", metavar="CATALOG", help="CSV, TSV, JSON Lines or Parquet file")
    command.add_argument("--out", required=True, metavar="DIR", help="model directory to write")
    command.add_argument("--quiet", action="store_true", help="no progress bars")
    command.add_argument(
        "--index",
        choices=INDEX_TYPES,
        default="auto",
        help="key store: flat (exact) or hnsw-sq8 (approximate graph search, 8-bit keys); "
        "auto picks flat up to 200,000 titles (default: auto)",
    )
    command.add_argument(
        "--precision",
        choices=PRECISIONS,
        default=None,
        help="arithmetic for encoding descriptions: auto is bfloat16 where the CPU has bfloat16 instructions "
        "(several times faster, embeddings within cosine 0.9999), float32 elsewhere (default: the base "
        "model's setting, auto for a new model)",
    )
    command.add_argument(
        "--word-store",
        choices=tuple(WORD_STORE_CHOICES),
        default="auto",
        help="keep every title's word vectors so explanations encode no description (about 16 KB a title); "
        "auto keeps them up to 200,000 titles (default: auto)",
    )
    return command


WORD_STORE_CHOICES = {"auto": None, "on": True, "off": False}


def _model_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--model",
        default="default",
        metavar="DIR|default",
        help="model directory (default: the model of recsys's own catalog, built on first use)",
    )


def _resolve_model(value: str) -> Path:
    return default_model(progress=True) if value == "default" else Path(value)


def _run_index(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    catalog = load_catalog(args.catalog)
    base = MovieSearch.load(_resolve_model(args.model)) if args.model else None
    model = MovieSearch.build(
        catalog,
        encoder=args.encoder,
        base=base,
        progress=not args.quiet,
        index=args.index,
        precision=args.precision,
        word_store=WORD_STORE_CHOICES[args.word_store],
    )
    model.save(args.out)
    print(
        f"indexed {len(catalog)} titles from {catalog.source} into {args.out} in {time.perf_counter() - started:.1f} s"
    )
    _print_index(model)
    _print_catalog_report(catalog)


def _run_check(args: argparse.Namespace) -> None:
    catalog = load_catalog(args.catalog)
    print(f"{catalog.source}: {len(catalog)} titles, {len(catalog.skipped)} rows skipped")
    print("  columns: " + ", ".join(f"{field} <- {column}" for field, column in catalog.columns.items()))
    kept = sorted({name for row in range(len(catalog)) for name in catalog.extra(row)})
    if kept:
        print("  kept as they are: " + ", ".join(kept[:20]) + (f" and {len(kept) - 20} more" if len(kept) > 20 else ""))
    _print_catalog_report(catalog)


def _print_index(model: MovieSearch) -> None:
    keys = model.store.keys
    found = keys.describe()
    if keys.exact:
        print(f"  key store: flat inner product, exact ({found['rows']:,} keys)")
    else:
        print(f"  key store: HNSW-SQ8, approximate ({found['rows']:,} keys, {found['links']} links per key, "
              f"search depth {found['depth']})")  # fmt: skip
    encoder = model.encoder
    print(f"  descriptions encoded in {encoder.document_precision} (precision setting: {encoder.precision})")
    if model.store.words is None:
        print("  no word store: explanations encode the descriptions they show")


def _print_catalog_report(catalog: Catalog) -> None:
    for row, reason in catalog.skipped[:10]:
        print(f"  skipped row {row}: {reason}")
    if len(catalog.skipped) > 10:
        print(f"  ... and {len(catalog.skipped) - 10} more skipped rows")
    for note in catalog.notes[:10]:
        print(f"  note: {note}")


def _run_train(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    catalog = load_catalog(args.catalog)
    likes = read_interactions(args.interactions, catalog, args.like_threshold) if args.interactions else None
    init = None if args.init == "none" else MovieSearch.load(_resolve_model(args.init))
    config = TrainConfig(
        epochs=args.epochs, seed=args.seed, ensemble=args.heads, fine_tune_layers=args.fine_tune_layers
    )
    model = train_catalog(
        catalog,
        config,
        init=init,
        progress=not args.quiet,
        index=args.index,
        precision=args.precision,
        word_store=WORD_STORE_CHOICES[args.word_store],
        interactions=likes,
    )
    model.save(args.out)
    validation = ", ".join(f"{name} {score:.4f}" for name, score in model.metrics["validation"].items())
    print(
        f"trained on {len(catalog)} titles from {catalog.source} in {time.perf_counter() - started:.1f} s; "
        f"saved to {args.out}"
    )
    print(f"  validation nDCG@10: {validation}; serving the {model.metrics['chosen']} head")
    settings = model.scorer.settings
    print(f"  lexical weight {settings.lexical_weight}, genre boost {settings.genre_boost}")
    _print_index(model)
    if model.taste is not None:
        _print_taste(model.metrics["taste"]["report"], model.taste.weights)
    if "fine_tune" in model.metrics:
        tuned = model.metrics["fine_tune"]
        kept = "kept" if tuned["validation_after"] > tuned["validation_before"] else "not kept"
        print(
            f"  fine-tuned {tuned['layers']} encoder layers: validation {tuned['validation_before']:.4f} → "
            f"{tuned['validation_after']:.4f}, {kept}"
        )
    _print_catalog_report(catalog)


def _run_eval(args: argparse.Namespace) -> None:
    model = MovieSearch.load(_resolve_model(args.model))
    queries = read_queries(args.queries)
    known = set(model.catalog.ids)
    ranked = model.search_many([q.query for q in queries], k=100)
    scores = score_runs(
        {q.qid: [r for r in q.relevant if r in known] for q in queries},
        {q.qid: [h.id for h in hits] for q, hits in zip(queries, ranked, strict=True)},
    )
    if args.json:
        print(json.dumps({"model": str(args.model), "queries": len(queries), **scores}))
    else:
        print(f"{len(queries)} queries: " + ", ".join(f"{name} {value:.4f}" for name, value in scores.items()))


def _run_search(args: argparse.Namespace) -> None:
    if (args.query is None) == (args.batch is None):
        raise QueryError("give either a QUERY or --batch QUERIES.jsonl")
    model = MovieSearch.load(_resolve_model(args.model))
    filters = {"genres": args.genre, "years": (args.year_min, args.year_max), "kind": args.kind,
               "countries": args.country, "ratings": args.rating, "max_runtime": args.max_runtime,
               "exclude_genres": args.exclude_genre, "ignore": args.ignore or (), "language": args.lang}  # fmt: skip
    if args.batch:
        qids, queries = _read_batch(Path(args.batch))
        for document in batch_documents(model, qids, queries, args.k or 100, **filters):
            print(json.dumps(document, ensure_ascii=False))
        return
    if args.json:
        print(json.dumps(search_document(model, args.query, args.k or 10, **filters), ensure_ascii=False))
        return
    hits = model.search(args.query, k=args.k or 10, **filters)
    understood = model.understand(args.query, filters["ignore"], args.lang)
    for reading in understood.readings:
        print(f"understood as {reading.shown}   [--ignore {reading.key}]")
    for note in understood.notes:
        print(f"note: {note}")
    _print_hits(hits)


def _run_add(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    titles = load_catalog(args.catalog)
    model = MovieSearch.load(args.model).add(titles, progress=not args.quiet)
    model.save(args.model)
    print(
        f"added {len(titles)} titles to {args.model} in {time.perf_counter() - started:.1f} s; {len(model.catalog)} now"
    )
    _print_catalog_report(titles)


def _run_remove(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    model = MovieSearch.load(args.model).remove(args.ids)
    model.save(args.model)
    print(f"removed {len(set(args.ids))} titles from {args.model} in {time.perf_counter() - started:.1f} s; "
          f"{len(model.catalog)} left")  # fmt: skip


def _print_taste(report: dict, weights: dict[str, float]) -> None:
    print(
        f"  likes: {report['likes']} from {report['users']} users on {report['titles liked']} titles "
        f"({report['file']}, matched by {report['matched by']})"
    )
    if report["rows of items not in the catalog"]:
        items = report["items not in the catalog"]
        print(
            f"  note: {report['rows of items not in the catalog']} rows name {items} item{'s' * (items != 1)} "
            "not in the catalog; they were left out"
        )
    print("  recommendation parts: " + ", ".join(f"{name} {weight:g}" for name, weight in weights.items()))


def _run_recommend(args: argparse.Namespace) -> None:
    model = MovieSearch.load(_resolve_model(args.model))
    if args.json:
        print(json.dumps(recommend_document(model, args.liked, args.disliked, args.k), ensure_ascii=False))
        return
    found = model.recommend(args.liked, k=args.k, disliked_ids=args.disliked)
    _print_hits(found)
    width = max((len(r.title) for r in found), default=0)
    print("\nwhy:")
    for rank, item in enumerate(found, start=1):
        print(f"{rank:>3}. {item.title:<{width}}  because you liked {item.reason()}")


def _run_explain(args: argparse.Namespace) -> None:
    model = MovieSearch.load(_resolve_model(args.model))
    explanation = model.explain(args.query, movie_id=args.id, text=args.text)
    if args.json:
        print(json.dumps(explanation.to_dict(), ensure_ascii=False))
        return
    lexical, boosts = sum(v for _, v in explanation.lexical), sum(v for _, v in explanation.boosts)
    print(
        f"score {explanation.score:.4f} = attention {explanation.dense:.4f} + BM25 {lexical:.4f} + boosts {boosts:.4f}"
    )
    for line in explanation.intents:
        print(f"understood: {line}")
    _print_shares("query words", explanation.query_words[:8], explanation.carried_query)
    _print_shares("description words", explanation.movie_words[:10], explanation.carried_movie)
    print("word pairs: " + ", ".join(f"{q} × {m} {v:+.4f}" for q, m, v in explanation.pairs[:6]))
    if explanation.lexical:
        print("BM25 terms: " + ", ".join(f"{t} {v:+.4f}" for t, v in explanation.lexical))
    for name, value in explanation.boosts:
        print(f"boost {name}: {value:+.4f}")


def _print_shares(heading: str, words: list, carried: float) -> None:
    print(f"{heading}, by share of the attention score:")
    width = max((len(word.word) for word in words), default=0)
    largest = max((abs(word.share) for word in words), default=0.0) or 1.0
    for rank, word in enumerate(words, start=1):
        print(f"  {rank:>2}. {word.word:<{width}}  {word.share:+.4f}  {'█' * round(12 * max(word.share, 0) / largest)}")
    print(f"      ({carried:+.4f} of these came through punctuation, stop words and [CLS]/[SEP])")


def _read_batch(path: Path) -> tuple[list, list[str]]:
    records = read_jsonl(path, lambda record: (record["qid"], str(record["query"])), '{"qid": ..., "query": ...}')
    return [qid for qid, _ in records], [query for _, query in records]


def _print_hits(hits: list[Hit]) -> None:
    if not hits:
        print("no titles match these filters")
    for rank, hit in enumerate(hits, start=1):
        year = hit.year if hit.year is not None else "    "
        genres = ", ".join(hit.genres[:3])
        print(f"{rank:>3}. {hit.score:6.3f}  {hit.weight:5.1%}  {year}  {hit.title}  [{hit.id}]  {genres}")


if __name__ == "__main__":
    sys.exit(main())
