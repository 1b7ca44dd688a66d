"""The engine registry, translation codes, language detection and the cache, with the
real argos-translate engine on tiny models built offline."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.translation import argos
from helpdesk.translation.detect import detect_language
from helpdesk.translation.engines import (
    EngineFailed,
    NoneEngine,
    NoTranslation,
    TranslationEngine,
    TranslationError,
    engine_for,
    register,
    resolve_name,
    translation_code,
)
from helpdesk.translation.models import TranslationCache
from helpdesk.translation.service import translate_text


class EscapingEngine(TranslationEngine):
    """Answers HTML-escaped markup, as some engines escape their output."""

    name = "escaping"

    def translate(self, text, source, target):
        return html.escape(f"<b>{target}:</b> {text} & co")

    def version(self, source, target):
        return "1"


register("escaping", lambda config: EscapingEngine())


@pytest.mark.parametrize("tag, code", [
    ("pt-BR", "pt"), ("PT", "pt"), ("en_GB", "en"), ("zh", "zh-Hans"), ("zh-CN", "zh-Hans"), ("zh-TW", "zh-Hant"),
    ("zh-Hant-HK", "zh-Hant"), ("zh-Hans-SG", "zh-Hans"), ("ar-EG", "ar"), ("", None), (None, None), ("xx-??", None),
])
def test_translation_codes(tag, code):
    assert translation_code(tag) == code


def test_registry_chooses_by_config():
    assert isinstance(engine_for({"TRANSLATION_ENGINE": "none"}), NoneEngine)
    assert resolve_name("auto") == "argos"  # argostranslate is installed here
    config = {"TRANSLATION_ENGINE": "escaping"}
    assert engine_for(config) is engine_for(config)  # made once per app config
    with pytest.raises(TranslationError, match="Unknown translation engine 'nope'"):
        engine_for({"TRANSLATION_ENGINE": "nope"})
    with pytest.raises(NoTranslation, match="No translation for pt→en"):
        NoneEngine().translate("Olá", "pt", "en")


def test_argos_translates_for_real_and_keeps_protected_values(app, translation):
    [model] = translation.install("pt-en")
    assert (model.source, model.target, model.version) == ("pt", "en", "1.0")
    engine = engine_for(app.config)
    assert engine.name == "argos" and engine.pairs() == {("pt", "en")}
    raw = engine.translate("A chávena chegou partida.", "pt", "en")
    assert isinstance(raw, str) and raw  # nonsense from a random model, but through argos' real path
    text = "A encomenda #1001 (29,90 €) não chegou: https://track.example/LX123456789CN ana@example.pt"
    result = translate_text(text, "pt-PT", "en")
    for value in ("#1001", "29,90 €", "https://track.example/LX123456789CN", "ana@example.pt"):
        assert result.text.count(value) == 1, result.text
    assert (result.source, result.target, result.engine, result.cached) == ("pt", "en", "argos", False)


def test_argos_pivots_through_english_and_says_which_pairs_it_lacks(app, translation):
    translation.install("pt-en", "en-de")
    engine = engine_for(app.config)
    assert [m.pair for m in engine.route("pt", "de")] == ["pt→en", "en→de"]
    assert "pt-en@1.0+en-de@1.0" in engine.version("pt", "de")
    assert engine.translate("A chávena chegou partida.", "pt", "de")
    with pytest.raises(NoTranslation, match="No translation for de→pt"):
        engine.translate("Hallo", "de", "pt")


def test_a_corrupt_model_fails_with_a_clear_error(app, translation):
    translation.install("pt-en-corrupt")
    with pytest.raises(EngineFailed, match="pt→en model failed"):
        translate_text("A chávena chegou partida.", "pt", "en")
    assert db.session.scalars(select(TranslationCache)).all() == []  # nothing cached from a failure


def test_a_repeated_text_costs_no_engine_call(app, translation):
    translation.install("pt-en")
    first = translate_text("A minha encomenda #1001 não chegou.", "pt", "en")
    again = translate_text("A minha encomenda #1001 não chegou.", "pt", "en")
    other_order = translate_text("A minha encomenda #1002 não chegou.", "pt", "en")
    assert (first.cached, again.cached, other_order.cached) == (False, True, True)
    assert again.text == first.text and "#1002" in other_order.text
    [row] = db.session.scalars(select(TranslationCache)).all()  # one engine call for three requests
    assert (row.source, row.target, row.engine, row.hits) == ("pt", "en", "argos", 2)
    assert "#100" not in row.text and row.engine_version.startswith("argostranslate 1.11.0 pt-en@1.0")
    db.session.rollback()


def test_html_escaped_engine_output_becomes_plain_text(app):
    app.config["TRANSLATION_ENGINE"] = "escaping"
    try:
        result = translate_text("Olá & <i>adeus</i>", "pt", "en")
    finally:
        app.config["TRANSLATION_ENGINE"] = "none"
    assert result.text == "<b>en:</b> Olá & <i>adeus</i> & co"


def test_nothing_to_translate_is_returned_as_is(app):
    assert translate_text("#1001 https://x.example", "pt", "en").text == "#1001 https://x.example"
    assert translate_text("Olá", "pt-BR", "pt-PT").text == "Olá"
    with pytest.raises(TranslationError, match="unknown language"):
        translate_text("Olá", None, "en")


@pytest.mark.parametrize("text, fallback, language, sure", [
    ("Olá, a chávena chegou partida", None, "pt", True),
    ("obrigada", "en", "pt", True),
    ("Hola, ¿dónde está mi pedido?", "pt-BR", "es", True),
    ("Where is my parcel?", "pt", "en", True),
    ("謝謝", "zh-Hant-TW", "zh-Hant-TW", True),   # the conversation's more precise tag is kept
    ("谢谢", "zh-Hant-TW", "zh-Hans", True),      # Simplified characters are Simplified
    ("我想退貨，包裹壞了", "en-US", "zh-Hant", True),  # Traditional, whatever the browser
    ("我想退货，包裹坏了", "en-US", "zh-Hans", True),
    ("你好，我的订单", "zh-Hant", "zh-Hans", True),
    ("你好", "zh-Hant", "zh-Hant", True),          # characters of both scripts: the conversation's
    ("你好", None, "zh-Hans", True),
    # Serbian is not among the detector's languages: its nearest candidate (Turkish, 0.99)
    # must not replace the buyer's language
    ("Dobar dan, gde je moja porudžbina?", "sr-Latn", "sr-Latn", False),
    ("Zdravo, paket je stigao oštećen i želim povraćaj novca.", "sr-Latn", "sr-Latn", False),
    ("ありがとう", None, "ja", True),
    ("شكرا", None, "ar", True),
    ("спасибо", None, "ru", True),
    ("ok", "pt-BR", "pt-BR", False),              # too short to tell: the conversation's language
    ("Olá", "pt-BR", "pt-BR", False),             # pt or es? unsure
    ("👍", "de", "de", False),
    ("#1001 https://track.example/x", "pt", "pt", False),  # protected values are no evidence
    ("ok", None, None, False),
])
def test_detection_on_short_texts_falls_back_to_the_conversation(text, fallback, language, sure):
    found = detect_language(text, fallback=fallback)
    assert (found.language, found.sure) == (language, sure)


def test_models_cli_install_list_remove(app, translation, tiny_models):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["translate", "models", "install", str(tiny_models["pt-en"])])
    assert result.exit_code == 0, result.output
    assert "Installed pt→en (version 1.0)" in result.output
    listed = runner.invoke(args=["translate", "models", "list"])
    assert listed.output.startswith("pt→en\t1.0\t")
    assert runner.invoke(args=["translate", "text", "--from", "pt", "--to", "en", "Olá #1001"]).exit_code == 0
    removed = runner.invoke(args=["translate", "models", "remove", "pt", "en"])
    assert removed.exit_code == 0 and "Removed pt→en" in removed.output
    again = runner.invoke(args=["translate", "models", "remove", "pt", "en"])
    assert again.exit_code == 1 and "No model for pt→en is installed." in again.output
    bad = runner.invoke(args=["translate", "models", "install", __file__])
    assert bad.exit_code == 1 and "not an .argosmodel file (not a zip archive)" in bad.output


def test_install_from_the_index_offline_says_so(app, translation):
    import socket

    with socket.socket() as probe:  # a port nothing listens on: as offline as it gets
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config["TRANSLATION_PACKAGE_INDEX"] = f"http://127.0.0.1:{port}/index.json"
    try:
        result = app.test_cli_runner().invoke(args=["translate", "models", "install", "--from-index", "pt", "en"])
    finally:
        app.config["TRANSLATION_PACKAGE_INDEX"] = ""
    assert result.exit_code == 1
    assert "Cannot read the model index" in result.output and "Offline?" in result.output


def test_install_from_an_index_downloads_with_progress(app, translation, tiny_models, serve):
    from flask import Flask, jsonify, send_file

    index = Flask("index")

    @index.get("/index.json")
    def listing():
        return jsonify([{"from_code": "pt", "to_code": "en", "type": "translate", "package_version": "1.0",
                         "links": [f"{server.url}/pt_en.argosmodel"]}])

    @index.get("/pt_en.argosmodel")
    def model_file():
        return send_file(tiny_models["pt-en"])

    server = serve(index)
    app.config["TRANSLATION_PACKAGE_INDEX"] = f"{server.url}/index.json"
    try:
        result = app.test_cli_runner().invoke(args=["translate", "models", "install", "--from-index", "pt-BR", "en"])
        missing = app.test_cli_runner().invoke(args=["translate", "models", "install", "--from-index", "ja", "en"])
    finally:
        app.config["TRANSLATION_PACKAGE_INDEX"] = ""
    assert result.exit_code == 0, result.output
    assert "Downloading pt→en" in result.output and "Installed pt→en" in result.output
    assert [m.pair for m in argos.installed_models(app.config)] == ["pt→en"]
    assert missing.exit_code == 1 and "The model index has no ja→en model." in missing.output
