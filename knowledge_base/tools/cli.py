"""`python -m knowledge_base …`: the editors' and operators' commands."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from common.logging_setup import configure_logging, progress_bars_wanted, set_console_level
from common.settings_errors import SettingsError
from knowledge_base import training
from knowledge_base.authoring.faq_files import content_hash, load_faqs
from knowledge_base.authoring.lint import lint
from knowledge_base.decision import decision_json
from knowledge_base.embedding import SentenceTransformerEmbedder
from knowledge_base.engine import KnowledgeBase
from knowledge_base.settings import Settings
from knowledge_base.tools.evaluation import evaluate, read_faq_jsonl, read_queries
from knowledge_base.tools.importer import FaqImportError, read_rows, rows_to_entries, slugify, write_faq_file

console = Console()


def main() -> None:
    """`python -m knowledge_base`: logging to var/log/cli.log (stderr only warnings unless -v), then the command."""
    try:
        configure_logging("cli", console_level=logging.WARNING)
    except SettingsError as error:
        sys.exit(str(error))
    cli()


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what the engine does.")
def cli(verbose: bool) -> None:
    """Auskunft knowledge base: check, build, try and evaluate the FAQ."""
    if verbose:
        set_console_level(logging.NOTSET)  # everything the log file gets (AUSKUNFT_LOG_LEVEL)


@cli.command("lint")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--no-collisions", is_flag=True, help="Skip the embedding-based collision check (fast).")
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
def lint_command(path: Path | None, no_collisions: bool, strict: bool) -> None:
    """Check FAQ files; prints every problem with file and line."""
    settings = Settings()
    collection = load_faqs(path or settings.faq_dir)
    embedder = None if no_collisions else _base_embedder(settings)
    findings = lint(collection, embedder)
    for finding in findings:
        click.echo(str(finding))
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    click.echo(f"{len(collection.entries)} entries checked: {errors} errors, {warnings} warnings")
    if not errors and not no_collisions:
        _print_expected_shares(settings.model_copy(update={"faq_dir": path}) if path else settings)
    if errors or (strict and warnings):
        sys.exit(1)


def _print_expected_shares(settings: Settings) -> None:
    """What the served model is expected to do with questions (the calibration `build` fits); German, for editors."""
    kb = KnowledgeBase(settings)
    kb.reload()
    for line in kb.snapshot().calibration_summary:
        click.echo(line)


@cli.command()
def build() -> None:
    """Build the index (only changed entries are embedded)."""
    kb = KnowledgeBase()
    collection = kb.reload(show_progress=progress_bars_wanted())
    for finding in collection.errors:
        click.echo(str(finding), err=True)
    if collection.errors:
        sys.exit(1)
    stats = kb.last_stats
    model = "trained" if kb.using_trained_model else "base"
    click.echo(f"index ready: {stats.entries} entries, {stats.texts} texts, {stats.embedded} embedded ({model} model)")


@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def ask(question: str | None, as_json: bool) -> None:
    """Show the decision and top candidates for QUESTION (no QUESTION: interactive)."""
    kb = KnowledgeBase()
    collection = kb.reload()
    if collection.errors:
        for finding in collection.errors:
            click.echo(str(finding), err=True)
        click.echo("The FAQ files have errors; fix them (see `python -m knowledge_base lint`).", err=True)
        sys.exit(1)
    if question is not None:
        _show(kb, question, as_json)
        return
    console.print("[bold]Auskunft[/bold] – Fragen Sie etwas (leer lassen oder Strg-D zum Beenden).")
    while True:
        if kb.use_trained_model_if_ready():
            console.print("[green]Das auf dieses FAQ trainierte Modell ist jetzt aktiv.[/green]")
        try:
            question = input("> ")
        except (EOFError, KeyboardInterrupt):
            break
        if not question.strip():
            break
        _show(kb, question, as_json)


def _show(kb: KnowledgeBase, question: str, as_json: bool) -> None:
    ranking, decision = kb.rank_and_decide(question)
    if as_json:
        click.echo(json.dumps(decision_json(decision, ranking), ensure_ascii=False, indent=1))
        return
    console.print(f"[bold]{decision.action}[/bold] (confidence {decision.confidence:.3f}; {decision.reason})")
    table = Table("faq id", "score", "phrasing", "answer", "lexical", "question")
    for column in table.columns:
        column.no_wrap = True
    for column in table.columns[1:5]:
        column.min_width = 8
    table.columns[5].overflow = "ellipsis"
    table.columns[5].max_width = 40
    for c in ranking:
        table.add_row(c.faq_id, f"{c.score:.3f}", f"{c.question_similarity:.3f}",
                      f"{c.answer_similarity:.3f}", f"{c.lexical:.2f}", c.question)
    console.print(table)
    if decision.action == "answer":
        console.print(kb.entries[decision.faq_id].answer)


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--topic", default=None, help="Topic title (default: from the file name).")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="FAQ file to write.")
def import_command(file: Path, topic: str | None, out: Path | None) -> None:
    """Turn a CSV/JSONL FAQ export (question, answer[, id]) into an FAQ file."""
    settings = Settings()
    existing = load_faqs(settings.faq_dir) if settings.faq_dir.exists() else None
    taken = {e.entry.id for e in existing.entries} if existing else set()
    target = out or settings.faq_dir / f"{slugify(file.stem)}.yml"
    if target.exists():
        raise click.ClickException(f"{target} exists already; choose another file with --out")
    try:
        entries = rows_to_entries(read_rows(file), taken, str(file))
    except (FaqImportError, ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from exc
    write_faq_file(entries, target, topic or file.stem.replace("_", " ").title())
    click.echo(f"wrote {len(entries)} entries to {target}; add alternatives, then run `lint`")


@cli.command()
def train() -> None:
    """Fine-tune the embedding model on this knowledge base (cached by content), at low priority.

    Without a terminal (the service's background run into var/train.log) it prints one progress
    line about every 5 % of the steps: steps done, time elapsed, estimate left.
    """
    settings = Settings()
    collection = load_faqs(settings.faq_dir)
    if collection.errors:
        for finding in collection.errors:
            click.echo(str(finding), err=True)
        sys.exit(1)
    entries = [located.entry for located in collection.entries]
    training.lower_priority()
    bar = progress_bars_wanted()
    result = training.train(settings, entries, collection.content_hash(), str(settings.faq_dir.resolve()),
                            show_progress=bar, progress=None if bar else lambda line: click.echo(line))
    state = "already trained" if result.cached else f"trained in {result.seconds:.0f} s"
    click.echo(f"{state}: {result.pairs} pairs → {result.path}")


@cli.command("eval")
@click.option("--faqs", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="JSONL FAQ file (id, question, answer[, alternatives]); default: the FAQ files.")
@click.option("--queries", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="JSONL of {query, faq_id}; faq_id \"OOS\" = nothing fits.")
@click.option("--train", "do_train", is_flag=True, help="Fine-tune on the FAQ data first (cached).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_command(faqs: Path | None, queries: Path, do_train: bool, as_json: bool) -> None:
    """Measure top-1, recall@3, MRR@5 and decision outcomes on labelled queries.

    Shares of in-scope queries: top1, recall_at_3, mrr_at_5, answered_correct,
    clarified_correct. Shares of all queries: answered_wrong, handoff.
    oos_not_answered: share of OOS queries not answered (null without OOS).
    """
    settings = Settings(use_trained_model=do_train)
    try:
        labelled = read_queries(queries)
        if faqs is None:
            collection = load_faqs(settings.faq_dir)
            if collection.errors:
                raise click.ClickException(f"FAQ files have errors: {collection.errors[0]}")
            entries, source = [e.entry for e in collection.entries], str(settings.faq_dir.resolve())
        else:
            entries, source = read_faq_jsonl(faqs), str(faqs.resolve())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    kb = KnowledgeBase(settings, persist=False)
    if do_train:
        progress = not as_json and progress_bars_wanted()
        training.train(settings, entries, content_hash(entries), source, show_progress=progress)
    kb.load_entries(entries, source)
    report = evaluate(labelled, kb.rank_and_decide)
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        return
    for key, value in report.as_dict().items():
        click.echo(f"{key:>18}: {value}")


def _base_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(
        settings.embedding_model, settings.query_prompt, settings.passage_prompt, settings.torch_threads,
        settings.fast_query_exports,
    )

