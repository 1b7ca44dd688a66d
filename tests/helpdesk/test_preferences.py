"""Agents choose their console language, time zone and spoken languages themselves."""
from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from flask_babel import refresh

from helpdesk.extensions import db
from helpdesk.models import Agent

URL = "/account/preferences"


def csrf(client) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(URL).get_data(as_text=True)).group(1)


def saved(agent_id: int) -> tuple:
    agent = db.session.get(Agent, agent_id)
    db.session.refresh(agent)
    return agent.locale, agent.time_zone, agent.languages


def test_an_agent_saves_locale_time_zone_and_languages(client, login):
    agent = login(locale="en", time_zone="UTC", languages=["en"])
    page = client.get(URL).get_data(as_text=True)
    assert '<option selected value="en">' in page and '<option selected value="UTC">' in page
    assert 'value="Asia/Tokyo"' in page and 'value="zh_Hant"' in page
    response = client.post(URL, data={"csrf_token": csrf(client), "locale": "de", "time_zone": "Asia/Tokyo",
                                      "languages": "de, pt-BR  en de"})
    assert response.status_code == 302
    assert saved(agent.id) == ("de", "Asia/Tokyo", ["de", "pt-BR", "en"])
    refresh()  # the test's app context outlives requests: forget the locale Flask-Babel kept in it
    page = client.get(URL).get_data(as_text=True)
    assert '<html lang="de"' in page and 'data-time-zone="Asia/Tokyo"' in page
    assert "Abmelden" in page  # the console now speaks German ("Sign out")
    refresh()
    assert client.get("/chat/inbox?lang=fr").get_data(as_text=True).count('<html lang="de"') == 1  # saved wins


@pytest.mark.parametrize("form, message", [
    ({"locale": "xx", "time_zone": "UTC", "languages": "en"}, "Not a valid choice"),
    ({"locale": "sv", "time_zone": "UTC", "languages": "en"}, "Not a valid choice"),  # no Swedish catalog
    ({"locale": "en", "time_zone": "Mars/Olympus_Mons", "languages": "en"}, "Not a valid choice"),
    ({"locale": "en", "time_zone": "UTC", "languages": "en <script>"}, "is not a language tag"),
    ({"locale": "en", "time_zone": "UTC", "languages": "en " * 200}, "Field cannot be longer than 400 characters"),
    ({"locale": "en", "time_zone": "UTC", "languages": " ".join(["en", "de", "fr", "es", "it", "pt", "ja", "ko", "zh",
                                                                 "ar", "ru"])}, "At most 10 languages."),
    ({"locale": "en", "time_zone": "UTC", "languages": "\ud800"}, "is not a language tag"),
])
def test_bad_preferences_are_refused_with_a_reason_and_nothing_changes(client, login, form, message):
    agent = login(locale="en", time_zone="Europe/Berlin", languages=["en"])
    body = urlencode({"csrf_token": csrf(client), **form}, errors="surrogatepass")  # lone surrogates as sent
    response = client.post(URL, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).replace("&lt;", "<").replace("&gt;", ">")
    assert saved(agent.id) == ("en", "Europe/Berlin", ["en"])


def test_preferences_need_the_csrf_token_and_a_signed_in_agent(app, client, login):
    assert client.get(URL).status_code == 302  # to the sign-in page
    agent = login(locale="en", time_zone="UTC")
    response = client.post(URL, data={"locale": "de", "time_zone": "Asia/Tokyo", "languages": "de"})
    assert response.status_code == 400
    assert saved(agent.id)[:2] == ("en", "UTC")


def test_clearing_the_languages_falls_back_to_the_default(client, login):
    agent = login(languages=["pt"])
    response = client.post(URL, data={"csrf_token": csrf(client), "locale": "pt_BR", "time_zone": "America/Sao_Paulo",
                                      "languages": ""})
    assert response.status_code == 302 and saved(agent.id) == ("pt_BR", "America/Sao_Paulo", [])
