"""Order numbers, tracking numbers, URLs, e-mails and amounts pass through translation unchanged."""
from __future__ import annotations

import pytest

from helpdesk.translation.protect import protect, restore


@pytest.mark.parametrize("text, values", [
    ("Onde está a encomenda #1001?", ["#1001"]),
    ("A encomenda 1001-2 chegou partida", ["1001-2"]),
    ("Paguei 29,90 € e depois $12.50", ["29,90 €", "$12.50"]),
    ("Total: EUR 1.234,56 ou 12 USD", ["EUR 1.234,56", "12 USD"]),
    ("Rastreio LX123456789CN e 1Z999AA10123456784", ["LX123456789CN", "1Z999AA10123456784"]),
    ("Veja https://shop.example.com/orders/1001?x=1. Obrigada", ["https://shop.example.com/orders/1001?x=1"]),
    ("Escreva para ana.sousa+loja@example.pt, por favor", ["ana.sousa+loja@example.pt"]),
    ("R$ 49,90 no pedido #77", ["R$ 49,90", "#77"]),
    ("Tom &amp; Jerry [1] e [ 2 ]", ["&amp;", "[1]", "[ 2 ]"]),
])
def test_protected_values_become_placeholders_and_come_back(text, values):
    protected = protect(text)
    assert list(protected.values) == values
    assert protected.text.count("[") == len(values)  # each value is one placeholder now
    assert restore(protected, protected.text) == text


def test_plain_words_and_small_numbers_are_left_to_translate():
    protected = protect("Quero 2 chávenas azuis, não 3.")
    assert protected.values == () and protected.text == "Quero 2 chávenas azuis, não 3."
    assert protect("#1001 https://x.example").plain == ""


def test_restore_survives_what_engines_do_to_placeholders():
    protected = protect("Order #1001 costs 29,90 € see https://s.example/t")
    assert protected.text == "Order [1] costs [2] see [3]"
    # respaced, reordered, HTML-escaped, or dropped altogether: every value is still there once
    assert restore(protected, "[ 2 ] para a encomenda [1], veja [3]") == \
        "29,90 € para a encomenda #1001, veja https://s.example/t"
    assert restore(protected, "Encomenda [1] &amp; [2]") == "Encomenda #1001 & 29,90 € https://s.example/t"
    assert restore(protected, "Yo") == "Yo #1001 29,90 € https://s.example/t"
    assert restore(protected, "[9] stays") == "[9] stays #1001 29,90 € https://s.example/t"


def test_engine_output_is_unescaped_once_and_stays_text():
    protected = protect("Is <b> allowed?")
    assert restore(protected, "&lt;b&gt; &amp;amp; &#39;ok&#39;") == "<b> &amp; 'ok'"
