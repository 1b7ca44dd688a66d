"""search_key: folding for search in any script."""
import pytest

from helpdesk.text import search_key


@pytest.mark.parametrize("text, key", [
    ("JOÃO  Silva", "joao silva"),
    ("ZOË Ærø", "zoe ærø"),  # Æ and ø are letters of their own, not accented ones
    ("Straße", "strasse"),
    ("王芳", "王芳"),
    ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
    ("محمد", "محمد"),
    ("สวัสดี", "สวัสดี"),  # Thai vowel signs are combining marks of the word: kept
    ("नमस्ते", "नमस्ते"),  # so are Devanagari's
    ("Ελληνικά", "ελληνικα"),
    ("Ёлка", "елка"),
    ("", ""),
])
def test_search_key(text, key):
    assert search_key(text) == key
