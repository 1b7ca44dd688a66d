"""The catalogs are complete: the committed .pot holds exactly what the sources mark for
translation, and every locale translates every message of it, with no fuzzy entry, the
placeholders kept, and the plural rule Babel gives for the locale."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from helpdesk.i18n import UI_LOCALES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
REFRESH = ("refresh the catalogs as the README says (Translations): pybabel extract -F babel.cfg -k _l "
           "-o translations/messages.pot . && pybabel update -i translations/messages.pot -d translations, "
           "then translate every new or fuzzy entry")


def read(path: Path, locale: str | None = None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def ids(catalog) -> set:
    return {message.id for message in catalog if message.id}


@pytest.fixture(scope="module")
def template():
    return read(TRANSLATIONS / "messages.pot")


def test_the_pot_is_up_to_date_with_the_sources(tmp_path, template):
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
                                "-o", str(fresh), str(ROOT)])
    extracted = ids(read(fresh))
    assert len(extracted) > 300
    assert not extracted - ids(template), f"strings missing from translations/messages.pot: {REFRESH}"
    assert not ids(template) - extracted, f"translations/messages.pot holds strings no source uses: {REFRESH}"


def test_there_is_a_catalog_for_each_interface_locale():
    found = {path.parent.parent.name for path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")}
    assert found == set(UI_LOCALES)


@pytest.mark.parametrize("locale", UI_LOCALES)
def test_every_message_is_translated_and_none_is_fuzzy(locale, template):
    catalog = read(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", locale)
    assert not catalog.fuzzy, f"{locale}: the catalog's header is marked fuzzy"
    assert catalog.plural_forms == get_plural(locale).plural_forms, f"{locale}: Plural-Forms is not Babel's"
    missing = ids(template) - ids(catalog)
    assert not missing, f"{locale} misses {sorted(map(str, missing))[:5]}...: {REFRESH}"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if isinstance(message.id, tuple) and len(forms) != catalog.num_plurals:
            problems.append(f"{len(forms)} plural forms, {catalog.num_plurals} wanted: {message.id!r}")
        if not all(form and form.strip() for form in forms):
            problems.append(f"untranslated: {message.id!r}")
        wanted = set(PLACEHOLDER.findall(message.id[0] if isinstance(message.id, tuple) else message.id))
        for form in forms:
            have = set(PLACEHOLDER.findall(form or ""))
            # A plural form may name its count in words (Arabic "طلب واحد" for one) and drop it.
            if have != wanted and not (isinstance(message.id, tuple) and not have):
                problems.append(f"placeholders {sorted(have)} instead of {sorted(wanted)}: {message.id!r}")
    assert not problems, f"{locale}: " + "; ".join(problems[:10])
    assert not catalog.obsolete, f"{locale}: obsolete entries (#~) left behind"


def test_the_compiled_catalogs_are_not_committed():
    ignored = (ROOT / ".gitignore").read_text()
    assert "*.mo" in ignored.split()
