"""``flask faq ...``: import and export articles, try the matcher."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from faq import service, transfer
from faq.matcher import InvalidLanguage, QueryTooLong

faq_cli = AppGroup("faq", help="FAQ articles: import, export, try a question.")
DEMO_FAQ = Path(__file__).resolve().parent.parent / "demo_data" / "faq"
DEMO_CATEGORY_NAMES = DEMO_FAQ.parent / "faq_categories.json"  # {category: {lang: name}}


def import_files(paths: list[Path]) -> transfer.ImportSummary:
    """Check every file, then import them all in one transaction (nothing when one is bad).

    Raises:
        transfer.ImportRefused: a file that cannot be read or fails its checks (named).
    """
    articles: list[transfer.ArticleData] = []
    for path in paths:
        try:
            articles += transfer.parse(path.read_bytes(), path.name)
        except transfer.ImportRefused as exc:
            raise transfer.ImportRefused([f"{path.name}: {problem}" for problem in exc.problems]) from None
    merged: dict[str, transfer.ArticleData] = {}
    for article in articles:  # the same slug in several files (one file per language): one article
        kept = merged.setdefault(article.slug, transfer.ArticleData(article.slug, article.category, article.status))
        kept.category = article.category if article.category is not None else kept.category
        kept.status = article.status if article.status is not None else kept.status
        kept.versions += article.versions
    return transfer.import_articles(list(merged.values()))


def seed_demo() -> transfer.ImportSummary:
    """Import the demo FAQ (``demo_data/faq/*.json``) and its category names
    (``demo_data/faq_categories.json``); running it again changes nothing new."""
    summary = import_files(sorted(DEMO_FAQ.glob("*.json")))
    for category, names in json.loads(DEMO_CATEGORY_NAMES.read_text("utf-8")).items():
        for lang, name in names.items():
            service.set_category_name(category, lang, name)
    return summary


@faq_cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(files):
    """Import FAQ exports (.json or .csv); all files or nothing."""
    try:
        summary = import_files(list(files))
    except transfer.ImportRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(summary.__dict__))


@faq_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
def export_command(fmt):
    """Print every article (drafts too) as JSON or CSV."""
    click.echo(transfer.export_json() if fmt == "json" else transfer.export_csv(), nl=False)


@faq_cli.command("suggest")
@click.argument("question")
@click.option("--lang", default="en", show_default=True, help="BCP 47 tag of the reader.")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 20))
def suggest_command(question, lang, limit):
    """Show the articles the matcher suggests for QUESTION."""
    try:
        for match in service.suggest(question, lang, limit=limit):
            click.echo(f"{match.score:5.1f}  {match.slug}  [{match.lang}]  {match.title}")
    except (InvalidLanguage, QueryTooLong) as exc:
        raise click.BadParameter(str(exc)) from None
