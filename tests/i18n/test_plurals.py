"""Counts through ngettext with the catalogs' own plural rules (Babel's, from CLDR)."""
from __future__ import annotations

import pytest
from flask_babel import force_locale, ngettext


def orders(app, locale: str, n: int) -> str:
    with app.test_request_context("/"), force_locale(locale):
        return ngettext("%(num)d order", "%(num)d orders", n)


@pytest.mark.parametrize(("n", "expected"), [
    (1, "1 заказ"), (2, "2 заказа"), (5, "5 заказов"), (21, "21 заказ"),
    (11, "11 заказов"), (22, "22 заказа"), (0, "0 заказов"), (111, "111 заказов"),
])
def test_russian(ui_app, n, expected):
    assert orders(ui_app, "ru", n) == expected


@pytest.mark.parametrize(("n", "expected"), [
    (0, "لا توجد طلبات"), (1, "طلب واحد"), (2, "طلبان"), (3, "3 طلبات"), (10, "10 طلبات"),
    (11, "11 طلبًا"), (99, "99 طلبًا"), (100, "100 طلب"), (102, "102 طلب"), (103, "103 طلبات"),
])
def test_arabic(ui_app, n, expected):
    assert orders(ui_app, "ar", n) == expected


@pytest.mark.parametrize(("locale", "one", "two"), [
    ("en", "1 order", "2 orders"), ("de", "1 Bestellung", "2 Bestellungen"), ("fr", "1 commande", "2 commandes"),
    ("pt_BR", "1 pedido", "2 pedidos"), ("ja", "1 件の注文", "2 件の注文"), ("zh_Hant", "1 筆訂單", "2 筆訂單"),
])
def test_other_languages(ui_app, locale, one, two):
    assert (orders(ui_app, locale, 1), orders(ui_app, locale, 2)) == (one, two)
