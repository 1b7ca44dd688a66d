"""Which catalog a visitor gets: language and script must match (CLDR likely subtags);
the territory is only a preference; English when nothing fits. Never a script jump:
Traditional Chinese readers never get Simplified, Latin-script Serbian never Cyrillic."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from faq.matcher import InvalidLanguage, canonical_tag
from helpdesk.i18n import bcp47, direction, fallback_chain, match, maximize, negotiate, strip_extensions


def chosen(header: str) -> str:
    return negotiate(parse_accept_header(header, LanguageAccept))


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-Hant-TW", "zh_Hant"),
    ("zh-TW;q=0.9,en;q=0.8", "zh_Hant"),
    ("zh-HK", "zh_Hant"),
    ("zh-MO", "zh_Hant"),
    ("zh-Hant", "zh_Hant"),
    ("zh-CN", "zh_Hans"),
    ("zh-SG", "zh_Hans"),
    ("zh", "zh_Hans"),
    ("zh-Hans-HK", "zh_Hans"),
    ("pt-PT", "pt_BR"),  # same language and script: Brazilian wording beats English
    ("pt-BR", "pt_BR"),
    ("ar-EG", "ar"),
    ("ar-SA,en;q=0.5", "ar"),
    ("es-MX", "es"),
    ("de-CH", "de"),
    ("en-GB", "en"),
    ("fr-CA,fr;q=0.9", "fr"),
    ("ja-JP", "ja"),
    ("ko-KR", "ko"),
    ("ru-RU", "ru"),
    ("it-CH", "it"),
    ("*", "en"),
    ("", "en"),
    ("garbage", "en"),
    ("!!;;q=x,,,", "en"),
    ("ar;q=0, fr", "fr"),  # q=0 means "not this one"
    ("ar;q=0", "en"),
    ("sw, de;q=0.5", "de"),  # no Swahili catalog: the next preference
    ("sr-Latn", "en"),  # Serbian in Latin letters is never shown Cyrillic (we have no sr anyway)
    ("sr-Latn, ru;q=0.5", "ru"),  # ... but an explicit second choice is honoured
    ("zh-TW, zh-CN;q=0.5", "zh_Hant"),
    ("en;q=0.1, ja;q=0.9", "ja"),  # quality, not order, decides
    # extensions and private use are dropped before negotiation (QA L7)
    ("zh-Hant-TW-u-ca-chinese", "zh_Hant"),
    ("ja-JP-u-ca-japanese-nu-jpanfin", "ja"),
    ("de-DE-x-phonebk", "de"),
    ("ar-EG-u-nu-arab, en;q=0.5", "ar"),
    ("x-klingon, fr;q=0.5", "fr"),
    ("zh-u-" + "ca-" * 80, "en"),  # too long to read at all
])
def test_accept_language(header, expected):
    assert chosen(header) == expected


def test_traditional_chinese_never_falls_back_to_simplified():
    for tag in ("zh-Hant-TW", "zh-TW", "zh-HK", "zh-MO", "zh-Hant", "zh-Hant-CN"):
        assert fallback_chain(tag) == ("zh_Hant", "en"), tag
    assert "zh_Hans" not in fallback_chain("yue-HK")  # Cantonese: no catalog, English, not Simplified
    assert fallback_chain("sr-Latn") == ("en",)
    assert fallback_chain("en-AU") == ("en",)


def test_a_500_character_header_is_cheap_and_harmless():
    header = ",".join(f"x{i:03d};q=0.{i % 9 + 1}" for i in range(100))[:480] + ",ko;q=0.05"
    assert len(header) >= 480
    assert chosen(header) == "en"  # ko comes after the first entries looked at, all unknown
    assert chosen("ko," + header) == "ko"
    assert chosen("a" * 500) == "en"
    assert chosen("zh-" + "Hant-" * 100) == "en"


def test_maximize_uses_cldr_likely_subtags():
    assert maximize("zh-TW") == ("zh", "Hant", "TW")
    assert maximize("zh") == ("zh", "Hans", "CN")
    assert maximize("sr") == ("sr", "Cyrl", "RS")
    assert maximize("sr-Latn") == ("sr", "Latn", "RS")
    assert maximize("iw") == ("he", "Hebr", "IL")  # deprecated code, via CLDR's aliases
    assert maximize("*") is None and maximize("garbage") is None and maximize("") is None


def test_extensions_are_dropped():
    assert strip_extensions("zh-Hant-TW-u-ca-chinese") == "zh-Hant-TW"
    assert strip_extensions(" en_US-x-twain ") == "en-US"
    assert strip_extensions("x-klingon") == ""
    assert maximize("ja-JP-u-ca-japanese") == ("ja", "Jpan", "JP")
    assert canonical_tag("pt-br-u-nu-latn") == "pt-BR"  # the FAQ's tags too
    with pytest.raises(InvalidLanguage):
        canonical_tag("x-private")


def test_the_faq_api_reads_a_tag_with_extensions(ui_client):
    answered = ui_client.get("/api/v1/faq/suggest?q=refund&lang=zh-Hant-TW-u-ca-chinese")
    assert answered.status_code == 200 and answered.get_json() == {"results": []}  # no articles here, no 400


def test_tags_and_directions():
    assert bcp47("zh_Hant") == "zh-Hant" and bcp47("pt_BR") == "pt-BR"
    assert direction("ar") == "rtl" and direction("he") == "rtl" and direction("fa") == "rtl" and direction("ur") == "rtl"
    assert direction("en") == "ltr" and direction("zh_Hant") == "ltr" and direction("nonsense!") == "ltr"
    assert match("zh_Hant_TW") == "zh_Hant"  # Babel's own identifiers (an agent's saved locale) too


@pytest.mark.parametrize(("header", "lang", "text"), [
    ("zh-Hant-TW", "zh-Hant", "開始對話"),
    ("zh-TW;q=0.9,en;q=0.8", "zh-Hant", "開始對話"),
    ("zh-HK", "zh-Hant", "開始對話"),
    ("zh-CN", "zh-Hans", "开始聊天"),
    ("pt-PT", "pt-BR", "Iniciar chat"),
    ("ar-EG", "ar", "ابدأ المحادثة"),
    ("*", "en", "Start chat"),
    ("garbage;q=oops", "en", "Start chat"),
    ("de;q=0", "en", "Start chat"),
    ("x" * 500, "en", "Start chat"),
])
def test_the_page_follows_accept_language(ui_client, header, lang, text):
    page = ui_client.get("/chat/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}"' in page and text in page
