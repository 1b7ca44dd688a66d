"""The FAQ matcher: which published articles answer a buyer's question, in any language.

Pure domain code (no Flask, no database): :class:`FaqIndex` is built once from
:class:`Entry` values (one per language version of a published article) and answers
:meth:`FaqIndex.search` without normalising the corpus again.

How a text is read (:func:`analyse`), the same for articles and queries:

1. Unicode NFKC (full-width letters and digits, half-width katakana, ligatures become
   their ordinary forms), then case folding (``ß`` → ``ss``, ``Σ`` → ``σ``).
2. Accents are folded away only where the language allows (:func:`folds_accents`):
   in languages written in Latin, Greek or Cyrillic script, whose buyers often type
   "devolucion" for "devolución", except Vietnamese, where the marks are tones and
   vowels that tell words apart (``ma``, ``má``, ``mà`` are different words). Marks on
   any other script (Thai vowels, Devanagari matras, Arabic harakat, Japanese dakuten)
   are letters of the word and are always kept.
3. Words are runs of letters, combining marks and digits of *any* script (Python's
   ``\\w`` alone would cut Thai and Hindi words at every vowel sign); everything else
   (punctuation, symbols, emoji) separates words.
4. Runs of scripts written without spaces (Chinese, Japanese kana, Thai, Lao, Khmer,
   Myanmar) are cut at the stop phrases of :mod:`faq.stopwords` and read as overlapping
   character bigrams; other words lose the language's stop words.

How a question is scored against an article version, 0–100:

* for the question and each alternative phrasing: ``0.40 × token_set_ratio`` of the
  content tokens + ``0.25 × WRatio`` of the full texts + ``0.35 ×`` the Dice overlap of
  character n-grams (trigrams of words, bigrams of spaceless runs) — typos cost a few
  n-grams, not the word; phrasings count ``0.97`` of the question;
* the best of those, plus up to :data:`KEYWORD_BONUS` points for the share of the query's
  content tokens that hit a keyword (fuzzy, ``ratio >= 80``, for words of 4 letters or
  more; exact otherwise), capped at 100.

Below :data:`DEFAULT_THRESHOLD` an article is no answer. Ties are broken by slug, then
language tag, so a ranking never depends on insertion order. With a large corpus, a first
pass (rapidfuzz ``process.extract`` over every text of the language, in C) keeps the best
:data:`CANDIDATES` articles for the full scoring.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from rapidfuzz import fuzz, process

from faq.stopwords import SPACELESS_STOP_PHRASES, STOP_WORDS
from helpdesk.i18n import MAX_RAW_TAG_LENGTH, strip_extensions
from helpdesk.text import search_key

MAX_QUERY_LENGTH = 500
DEFAULT_THRESHOLD = 50.0
DEFAULT_LANGUAGE = "en"
TEXT_WEIGHT, VOCABULARY_POINTS, KEYWORD_POINTS = 0.70, 20.0, 10.0
PHRASING_WEIGHT = 0.97
CANDIDATES = 60
# Languages written in a script with accents a searcher may leave off, where leaving them
# off still names the same word. Vietnamese is Latin but its marks are tones and vowels.
FOLDED_SCRIPTS = frozenset({"Latn", "Grek", "Cyrl"})
UNFOLDED_LANGUAGES = frozenset({"vi"})

Translator = Callable[[str, str, str], "str | None"]


class InvalidLanguage(ValueError):
    """A language tag that is not BCP 47 or names a language CLDR does not know."""


class QueryTooLong(ValueError):
    """A query longer than :data:`MAX_QUERY_LENGTH` characters."""


# --- languages -------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def canonical_tag(tag: str) -> str:
    """``"zh-hant-tw"`` → ``"zh-Hant-TW"``, ``"pt_br"`` → ``"pt-BR"`` (CLDR via Babel);
    extensions are dropped (``"ja-JP-u-ca-japanese"`` → ``"ja-JP"``, see
    :func:`helpdesk.i18n.strip_extensions`).

    Raises:
        InvalidLanguage: not a tag whose language CLDR knows (``"xx"``, ``""``, ``"en-!"``).
    """
    plain = strip_extensions(tag) if isinstance(tag, str) and len(tag) <= MAX_RAW_TAG_LENGTH else ""
    if not plain or len(plain) > 35:
        raise InvalidLanguage(f"{str(tag)[:40]!r} is not a language tag such as en, pt-BR or zh-Hant.")
    try:
        locale = Locale.parse(plain, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise InvalidLanguage(f"{tag!r} is not a language tag such as en, pt-BR or zh-Hant.") from None
    return str(locale).replace("_", "-")


@lru_cache(maxsize=1024)
def script_of(tag: str) -> str:
    """The ISO 15924 script a language tag is written in: explicit (``zh-Hant`` → ``Hant``)
    or CLDR's likely subtags (``zh-TW`` → ``Hant``, ``zh`` → ``Hans``, ``ja`` → ``Jpan``,
    ``sr`` → ``Cyrl``). ``"Zzzz"`` when CLDR has no guess.

    Raises:
        InvalidLanguage: as :func:`canonical_tag`.
    """
    locale = Locale.parse(canonical_tag(tag), sep="-")
    if locale.script:
        return locale.script
    likely = get_global("likely_subtags")
    for key in (f"{locale.language}_{locale.territory}" if locale.territory else None, locale.language):
        if key and key in likely:
            parts = likely[key].split("_")
            if len(parts) > 1 and len(parts[1]) == 4:
                return parts[1]
    return "Zzzz"


def primary_language(tag: str) -> str:
    """``"pt-BR"`` → ``"pt"``: the key of :mod:`faq.stopwords`."""
    return tag.split("-", 1)[0].lower()


@lru_cache(maxsize=1024)
def fallback_chain(tag: str, default: str = DEFAULT_LANGUAGE) -> tuple[str, ...]:
    """Languages to search for a reader of ``tag``, best first, never changing script
    before the final ``default``: ``zh-Hant-TW`` → (``zh-Hant-TW``, ``zh-Hant``, ``en``);
    ``zh-TW`` → (``zh-TW``, ``zh-Hant``, ``en``) (``zh`` alone means Simplified and is
    skipped); ``pt-BR`` → (``pt-BR``, ``pt-Latn``, ``pt``, ``en``).

    Raises:
        InvalidLanguage: as :func:`canonical_tag`.
    """
    tag = canonical_tag(tag)
    script = script_of(tag)
    locale = Locale.parse(tag, sep="-")
    chain = [tag]
    candidates = [f"{locale.language}-{script}", locale.language] if not locale.script else []
    subtags = tag.split("-")
    candidates += ["-".join(subtags[:n]) for n in range(len(subtags) - 1, 0, -1)]
    for candidate in candidates:
        if candidate not in chain and script_of(candidate) == script:
            chain.append(candidate)
    default = canonical_tag(default)
    if default not in chain:
        chain.append(default)
    return tuple(chain)


@lru_cache(maxsize=1024)
def folds_accents(tag: str) -> bool:
    """True when accents may be ignored in ``tag``'s language (see the module's rule 2)."""
    return script_of(tag) in FOLDED_SCRIPTS and primary_language(tag) not in UNFOLDED_LANGUAGES


# Scripts of letters, for telling which languages a query may be in: Han is shared by
# Chinese (either script) and Japanese; kana only by Japanese.
_SCRIPT_LETTERS = {"LATIN": "Latn", "CJK": "Hani", "HIRAGANA": "Kana", "KATAKANA": "Kana", "ARABIC": "Arab",
                   "THAI": "Thai", "DEVANAGARI": "Deva", "HANGUL": "Hang", "CYRILLIC": "Cyrl", "GREEK": "Grek",
                   "HEBREW": "Hebr"}
_LANGUAGE_SCRIPTS = {"Hans": {"Hani"}, "Hant": {"Hani"}, "Jpan": {"Hani", "Kana"}, "Kore": {"Hang", "Hani"}}


def letter_scripts(text: str) -> set[str]:
    """The scripts of the letters in ``text`` (``{"Latn"}``, ``{"Hani", "Kana"}``, ...)."""
    found = set()
    for ch in text:
        if unicodedata.category(ch).startswith("L"):
            script = _SCRIPT_LETTERS.get(unicodedata.name(ch, "").split(" ", 1)[0])
            if script:
                found.add(script)
    return found


def writes_with(tag: str) -> set[str]:
    """The letter scripts of :func:`letter_scripts` that language ``tag`` is written with."""
    script = script_of(tag)
    return _LANGUAGE_SCRIPTS.get(script, {script})


def _other_script_of_same_language(tag: str, reader: str) -> bool:
    return primary_language(tag) == primary_language(reader) and script_of(tag) != script_of(reader)


# --- reading text ----------------------------------------------------------------------


def _mark_class() -> str:
    ranges: list[tuple[int, int]] = []
    for code in range(0x300, 0x20000):
        if unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(f"\\U{a:08x}-\\U{b:08x}" if a != b else f"\\U{a:08x}" for a, b in ranges)


# A word: letters, digits and combining marks of any script (Mn, Mc, Me), not "_".
_WORD = re.compile(f"[\\w{_mark_class()}]+")
_SPACELESS = re.compile(
    "([\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+)"
)


@dataclass(frozen=True, slots=True)
class Analysed:
    """A text as the scorers see it.

    ``full``: every word and spaceless run, space-separated (for ``WRatio``);
    ``content``: content tokens, space-separated — words without stop words, bigrams of
    spaceless runs (for ``token_set_ratio``); ``units``: the content tokens as a tuple
    (for keywords); ``grams``: character n-grams (for the Dice overlap).
    """

    full: str
    content: str
    units: tuple[str, ...]
    grams: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.full)


def fold(text: str, tag: str) -> str:
    """NFKC, case folding, and accents folded where :func:`folds_accents` allows."""
    if folds_accents(tag):
        return search_key(text)
    return unicodedata.normalize("NFKC", text).casefold()


def _bigrams(run: str) -> list[str]:
    return [run] if len(run) < 2 else [run[i:i + 2] for i in range(len(run) - 1)]


def analyse(text: str, tag: str) -> Analysed:
    """Read ``text`` written in language ``tag`` (see the module docstring, rules 1–4).

    An empty or symbol-only text gives a falsy :class:`Analysed`.
    """
    language = primary_language(tag)
    stop_words = STOP_WORDS.get(language, frozenset())
    stop_phrases = SPACELESS_STOP_PHRASES.get(language, ())
    words: list[str] = []
    content: list[str] = []
    grams: set[str] = set()
    for token in _WORD.findall(fold(text, tag).replace("_", " ")):
        for i, piece in enumerate(_SPACELESS.split(token)):
            if not piece:
                continue
            words.append(piece)
            if i % 2:  # a spaceless run
                for phrase in stop_phrases:
                    piece = piece.replace(phrase, " ")
                for run in piece.split():
                    pairs = _bigrams(run)
                    content.extend(pairs)
                    grams.update(pairs)
            elif piece not in stop_words:
                content.append(piece)
                padded = f" {piece} "
                grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    if words and not content:  # only stop words ("where is it?" minus "where"...): keep them
        content = words
        for word in words:
            padded = f" {word} "
            grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return Analysed(" ".join(words), " ".join(content), tuple(content), frozenset(grams))


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def text_score(query: Analysed, text: Analysed) -> float:
    """How well ``text`` (a question or phrasing) matches ``query``, 0–100."""
    if not query or not text:
        return 0.0
    return (0.40 * fuzz.token_set_ratio(query.content, text.content)
            + 0.25 * fuzz.WRatio(query.full, text.full)
            + 35.0 * _dice(query.grams, text.grams))


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Words to find query tokens in: ``words`` as given, ``prefixes`` every prefix of
    4 characters or more of each word (for :func:`coverage`'s light stemming)."""

    words: tuple[str, ...]
    exact: frozenset[str]
    prefixes: frozenset[str]

    @classmethod
    def of(cls, words: Iterable[str]) -> Vocabulary:
        words = tuple(dict.fromkeys(words))
        return cls(words, frozenset(words), frozenset(w[:n] for w in words for n in range(4, len(w) + 1)))


def coverage(query: Analysed, vocabulary: Vocabulary) -> float:
    """The share (0–1) of the query's content tokens found in ``vocabulary``: equal; one a
    prefix of the other with 4 characters or more in common ("refund"/"refunds",
    "cancel"/"cancelling": a light stemmer that knows no language); or, for tokens of 4
    characters or more, a typo away (``fuzz.ratio >= 80``: "pakage" finds "package")."""
    if not query.units or not vocabulary.words:
        return 0.0
    hits = 0
    for unit in query.units:
        if unit in vocabulary.exact:
            hits += 1
        elif len(unit) >= 4 and (unit in vocabulary.prefixes
                                 or any(unit[:n] in vocabulary.exact for n in range(4, len(unit)))
                                 or process.extractOne(unit, vocabulary.words, scorer=fuzz.ratio,
                                                       score_cutoff=80) is not None):
            hits += 1
    return hits / len(query.units)


# --- the index -------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One language version of one published article, as the matcher needs it.

    ``lang`` is a BCP 47 tag; ``title`` the question shown to buyers; ``phrasings`` other
    ways of asking; ``keywords`` single words or short phrases.
    """

    slug: str
    lang: str
    title: str
    phrasings: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """A suggested article: ``score`` 0–100 (one decimal), higher is better."""

    slug: str
    lang: str
    title: str
    score: float


@dataclass
class _Prepared:
    entry: Entry
    texts: tuple[tuple[float, Analysed], ...]  # (weight, analysed question or phrasing)
    keywords: Vocabulary                        # content tokens of the keywords
    vocabulary: Vocabulary                      # content tokens of everything
    contents: tuple[str, ...]                   # first-pass strings: each text, then the keywords


def _prepare(entry: Entry, tag: str) -> _Prepared:
    """Analyse one version (the only place an index reads text)."""
    texts = [(1.0, analyse(entry.title, tag))]
    texts += [(PHRASING_WEIGHT, analyse(p, tag)) for p in entry.phrasings]
    texts = [(w, a) for w, a in texts if a]
    keywords = [u for k in entry.keywords for u in analyse(k, tag).units]
    vocabulary = Vocabulary.of([u for _, a in texts for u in a.units] + keywords)
    contents = [a.content for _, a in texts] + ([" ".join(dict.fromkeys(keywords))] if keywords else [])
    return _Prepared(entry, tuple(texts), Vocabulary.of(keywords), vocabulary, tuple(contents))


@dataclass
class _Language:
    tag: str
    articles: list[_Prepared] = field(default_factory=list)
    contents: list[str] = field(default_factory=list)  # first pass: one string per text
    owners: list[int] = field(default_factory=list)     # contents[i] belongs to articles[owners[i]]


class FaqIndex:
    """Every published article version, read once, searchable by language.

    Args:
        entries: the versions; two with the same slug and (canonical) language keep the
            last one.
        threshold: the score (0–100) below which an article is not an answer.

    Attributes:
        prepared: the analysed versions by ``(slug, canonical tag)``.
        analysed_count: how many versions this index analysed when it was made (all for
            a new index; only the replaced ones for :meth:`replaced`).

    Raises:
        InvalidLanguage: an entry's ``lang`` is not a language tag.
    """

    def __init__(self, entries: Iterable[Entry], threshold: float = DEFAULT_THRESHOLD):
        self.threshold = threshold
        latest: dict[tuple[str, str], Entry] = {}
        for entry in entries:
            latest[(entry.slug, canonical_tag(entry.lang))] = entry
        self._assemble({key: _prepare(entry, key[1]) for key, entry in latest.items()})
        self.analysed_count = len(latest)

    def _assemble(self, prepared: dict[tuple[str, str], _Prepared]) -> None:
        self.prepared = prepared
        self.languages: dict[str, _Language] = {}
        for (_slug, tag), item in sorted(prepared.items(), key=lambda pair: pair[0]):
            language = self.languages.setdefault(tag, _Language(tag))
            language.articles.append(item)
            language.contents.extend(item.contents)
            language.owners.extend([len(language.articles) - 1] * len(item.contents))

    def replaced(self, slugs: Iterable[str], entries: Iterable[Entry]) -> FaqIndex:
        """A new index where every version of the articles called ``slugs`` is replaced by
        ``entries`` (a slug without entries leaves the index: deleted or unpublished).
        Only ``entries`` are analysed; every other version is shared with this index,
        which stays unchanged (a search running on it meanwhile is not disturbed).

        Raises:
            InvalidLanguage: an entry's ``lang`` is not a language tag.
        """
        slugs = set(slugs)
        fresh: dict[tuple[str, str], Entry] = {}
        for entry in entries:
            fresh[(entry.slug, canonical_tag(entry.lang))] = entry
        prepared = {key: item for key, item in self.prepared.items() if key[0] not in slugs}
        prepared.update({key: _prepare(entry, key[1]) for key, entry in fresh.items()})
        index = FaqIndex.__new__(FaqIndex)
        index.threshold = self.threshold
        index._assemble(prepared)
        index.analysed_count = len(fresh)
        return index

    def __len__(self) -> int:
        return sum(len(language.articles) for language in self.languages.values())

    def search(self, query: str, lang: str, limit: int = 5, translate: Translator | None = None) -> list[Match]:
        """The best answers to ``query`` asked by a reader of ``lang``, best first.

        Searches the languages of :func:`fallback_chain` (an article found in several
        keeps the version of the earliest language); when none answers, every indexed
        language written in the query's script (a buyer whose browser says ``en`` may
        type Spanish or Chinese), but never the reader's own language in another script
        (no Simplified Chinese for a ``zh-Hant`` reader); when still none, and ``translate`` is given, the
        query translated to English (``translate(text, source_tag, "en")``, returning
        ``None`` when it cannot).

        Args:
            query: the buyer's words, any script; at most :data:`MAX_QUERY_LENGTH` characters.
            lang: BCP 47 tag of the reader.
            limit: at most this many results (1 or more).

        Returns:
            :class:`Match` list sorted by score (descending), then slug, then language;
            empty for an empty or symbol-only query or when nothing reaches the threshold.

        Raises:
            QueryTooLong: ``query`` is longer than :data:`MAX_QUERY_LENGTH`.
            InvalidLanguage: ``lang`` is not a language tag.
            ValueError: ``limit`` below 1.
        """
        if len(query) > MAX_QUERY_LENGTH:
            raise QueryTooLong(f"The question is {len(query):,} characters long; the limit is {MAX_QUERY_LENGTH}.")
        if limit < 1:
            raise ValueError("limit must be 1 or more")
        chain = fallback_chain(lang)
        found = self._search_languages(query, chain)
        if not found:
            scripts = letter_scripts(query)
            guesses = [tag for tag in sorted(self.languages) if tag not in chain and scripts
                       and scripts <= writes_with(tag) and not _other_script_of_same_language(tag, chain[0])]
            found = self._search_languages(query, guesses, first_language_wins=False)
        if not found and translate is not None:
            english = translate(query, canonical_tag(lang), DEFAULT_LANGUAGE)
            if english and len(english) <= MAX_QUERY_LENGTH:
                found = self._search_languages(english, (DEFAULT_LANGUAGE,))
        ranked = sorted(found.values(), key=lambda m: (-m.score, m.slug, m.lang))
        return ranked[:limit]

    def _search_languages(self, query: str, tags: Iterable[str], first_language_wins: bool = True) -> dict[str, Match]:
        """Matches by slug: the version of the first language in ``tags`` that answers
        (a reader's preference), or with ``first_language_wins=False`` the best-scoring
        version (guesses from the script, where no language is preferred)."""
        found: dict[str, Match] = {}
        for tag in tags:
            language = self.languages.get(tag)
            if language is None:
                continue
            for match in self._search_language(query, language):
                kept = found.get(match.slug)
                if kept is None or (not first_language_wins and (-match.score, match.lang) < (-kept.score, kept.lang)):
                    found[match.slug] = match
        return found

    def _search_language(self, query: str, language: _Language) -> list[Match]:
        analysed = analyse(query, language.tag)
        if not analysed:
            return []
        if len(language.articles) <= CANDIDATES:
            candidates: Iterable[int] = range(len(language.articles))
        else:
            first = process.extract(analysed.content, language.contents, scorer=fuzz.token_set_ratio,
                                    processor=None, limit=CANDIDATES * 3)
            candidates = list(dict.fromkeys(language.owners[i] for _, _, i in first))[:CANDIDATES]
        matches = []
        for position in candidates:
            article = language.articles[position]
            best = max((weight * text_score(analysed, text) for weight, text in article.texts), default=0.0)
            score = (TEXT_WEIGHT * best + VOCABULARY_POINTS * coverage(analysed, article.vocabulary)
                     + KEYWORD_POINTS * coverage(analysed, article.keywords))
            if score >= self.threshold:
                entry = article.entry
                matches.append(Match(entry.slug, language.tag, entry.title, round(score, 1)))
        return matches
