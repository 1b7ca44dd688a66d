"""``flask translate ...``: translation models, and trying the engine and the detector.

    flask translate models install FILE.argosmodel
    flask translate models install --from-index pt en
    flask translate models list
    flask translate models remove pt en
    flask translate detect "Onde está a minha encomenda?"
    flask translate text --from pt --to en "Onde está a minha encomenda #1001?"
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from helpdesk.translation.engines import TranslationError, translation_code

translate_cli = AppGroup("translate", help="Machine translation: models, detection, a quick try.")
models_cli = AppGroup("models", help="argos-translate models (one per language pair).")
translate_cli.add_command(models_cli)


def _code(_ctx, param, value):
    if value is None:
        return None
    code = translation_code(value)
    if code is None:
        raise click.BadParameter(f"{value!r} is not a language tag such as pt, en or zh-Hant.", param=param)
    return code


def _fail(exc: TranslationError):
    raise click.ClickException(str(exc)) from None


@models_cli.command("install")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from-index", "pair", nargs=2, metavar="SOURCE TARGET", callback=lambda c, p, v: v or None,
              help="Download the SOURCE→TARGET model from the package index (needs the network).")
def models_install(file, pair):
    """Install a model from an .argosmodel FILE, or from the package index."""
    from helpdesk.translation import argos

    if bool(file) == bool(pair):
        raise click.UsageError("Give either an .argosmodel FILE or --from-index SOURCE TARGET.")
    started = time.monotonic()
    try:
        if file:
            click.echo(f"Checking {file} ...", err=True)
            argos.check_archive(file)
            click.echo("Loading argos-translate (a few seconds) and installing ...", err=True)
            model = argos.install_file(current_app.config, file)
        else:
            source, target = (_code(None, None, code) for code in pair)
            with click.progressbar(length=1, label=f"Downloading {source}→{target}", file=sys.stderr) as bar:
                def progress(done, total):
                    bar.length = total or max(bar.length, done + 1)
                    bar.update(done - bar.pos)
                model = argos.install_from_index(current_app.config, source, target, progress=progress)
    except TranslationError as exc:
        _fail(exc)
    click.echo(f"Installed {model.pair} (version {model.version or '?'}) in {model.path} "
               f"({time.monotonic() - started:.1f} s).")


@models_cli.command("list")
def models_list():
    """List the installed models."""
    from helpdesk.translation import argos

    try:
        models = argos.installed_models(current_app.config)
    except TranslationError as exc:
        _fail(exc)
    if not models:
        click.echo(f"No models installed in {argos.models_dir(current_app.config)}.", err=True)
    for model in models:
        click.echo(f"{model.pair}\t{model.version or '?'}\t{model.path}")


@models_cli.command("remove")
@click.argument("source", callback=_code)
@click.argument("target", callback=_code)
def models_remove(source, target):
    """Uninstall the SOURCE→TARGET model."""
    from helpdesk.translation import argos

    try:
        model = argos.remove(current_app.config, source, target)
    except TranslationError as exc:
        _fail(exc)
    click.echo(f"Removed {model.pair} ({model.path}).")


@translate_cli.command("detect")
@click.argument("text")
@click.option("--fallback", default=None, help="The language to assume when unsure (a BCP 47 tag).")
def detect(text, fallback):
    """Print the language of TEXT, and whether the detector was sure."""
    from helpdesk.translation.detect import detect_language

    found = detect_language(text, fallback=fallback, languages=current_app.config["TRANSLATION_DETECT_LANGUAGES"])
    click.echo(f"{found.language or 'unknown'}\t{'sure' if found.sure else 'unsure'}\t{found.confidence:.2f}")


@translate_cli.command("text")
@click.argument("text")
@click.option("--from", "source", required=True, callback=_code)
@click.option("--to", "target", required=True, callback=_code)
def text_command(text, source, target):
    """Translate TEXT with the configured engine (through the cache)."""
    from helpdesk.translation.service import translate_text

    try:
        result = translate_text(text, source, target)
    except TranslationError as exc:
        _fail(exc)
    click.echo(result.text)
    click.echo(f"({result.engine}, {'cached' if result.cached else 'translated'})", err=True)
