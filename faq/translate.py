"""Machine translation for the FAQ, through the helpdesk's translation engine
(:func:`helpdesk.translation.service.translate_text`: engines registry, protected order
numbers and URLs, database cache).

- :func:`machine_translate`: an agent turns one version of an article into drafts in other
  languages (question, phrasings, keywords and the Markdown answer), flagged
  machine-translated and awaiting review (hidden from buyers until reviewed), never
  replacing a version a person wrote unless asked to.
- :func:`translate_markdown`: only the text of a Markdown answer goes to the engine; the
  markup (list markers, headings, quotes, emphasis, links' targets, code) is kept as it
  is, so the structure survives. Code must be fenced (```) or inline (`x`): an indented
  block is read as text.
- :func:`query_translator`: the FAQ's ``app.extensions["translator"]`` seam, which lets
  the matcher try a buyer's question in English when nothing answers it in their language.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import current_app

from faq.models import Article
from faq.service import FaqError, InvalidArticle, apply_version, clean_lang, clean_version, mark_changed
from helpdesk.extensions import db
from helpdesk.translation.engines import EngineFailed, NoTranslation, TranslationError, resolve_name
from helpdesk.translation.service import translate_text

MAX_TARGETS = 20

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_PREFIX = re.compile(r"^[ \t]*(?:>[ \t]?)*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+|#{1,6}[ \t]+)?")
# Inline markup, kept as written: escapes, code spans, image/link openers and closers with
# their targets, autolinks, emphasis runs (``_`` only at a word's edge), a hard break.
_INLINE = re.compile(r"\\.|(`+).*?\1|!?\[|\]\([^()\s]*(?:[ \t]+\"[^\"]*\")?\)|\]|<(?:https?://|mailto:)[^<>\s]*>"
                     r"|\*{1,3}|(?<!\w)_{1,3}|_{1,3}(?!\w)|[ \t]{2,}$")
_SPECIAL = re.compile(r"([\\`*_\[\]<>])")
_LINE_START = re.compile(r"^([ \t]*)([-+*#>]|\d{1,9}[.)])")

Translate = Callable[[str], str]


def markdown_pieces(markdown: str) -> list[tuple[bool, str]]:
    """``markdown`` cut into ``(is_text, piece)``: the pieces joined give it back; only
    the ``is_text`` ones hold words to translate (see the module docstring)."""
    pieces: list[tuple[bool, str]] = []
    fence = None
    for number, line in enumerate(markdown.split("\n")):
        if number:
            pieces.append((False, "\n"))
        opening = _FENCE.match(line)
        if fence is not None or opening:
            if fence is None:
                fence = opening.group(1)
            elif line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                fence = None
            pieces.append((False, line))
            continue
        if not line.strip() or _BREAK.match(line):
            pieces.append((False, line))
            continue
        prefix = _PREFIX.match(line).group(0)
        pieces.append((False, prefix))
        position, rest = 0, line[len(prefix):]
        for match in _INLINE.finditer(rest):
            pieces.append((True, rest[position:match.start()]))
            pieces.append((False, match.group(0)))
            position = match.end()
        pieces.append((True, rest[position:]))
    return [(is_text, piece) for is_text, piece in pieces if piece]


def translate_markdown(markdown: str, translate: Translate) -> str:
    """``markdown`` with every text piece of :func:`markdown_pieces` replaced by
    ``translate(piece)`` (its surrounding spaces kept), and the characters Markdown would
    read as markup in the translation escaped; the markup itself is untouched.

    Raises:
        whatever ``translate`` raises.
    """
    out: list[str] = []
    line_start = True
    for is_text, piece in markdown_pieces(markdown):
        core = piece.strip()
        if is_text and any(ch.isalnum() for ch in core):
            lead, trail = piece[:len(piece) - len(piece.lstrip())], piece[len(piece.rstrip()):]
            translated = _SPECIAL.sub(r"\\\1", " ".join(translate(core).split()))
            if line_start:
                translated = _LINE_START.sub(r"\1\\\2", translated)
            piece = lead + translated + trail
        out.append(piece)
        # still where a block starts: after a line break, or a list, quote or heading marker
        line_start = piece.endswith("\n") or (line_start and not is_text and bool(_PREFIX.fullmatch(piece)))
    return "".join(out)


@dataclass
class TranslationReport:
    """What :func:`machine_translate` did, by target tag: ``created`` / ``replaced``
    versions, ``kept`` human versions (not replaced without ``replace_human``),
    ``unavailable`` (no model for the pair: the engine's note), ``failed`` (the engine
    failed, or the translation does not fit a field: the reason)."""

    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def _targets(tags: Iterable[object], source: str) -> list[str]:
    cleaned = list(dict.fromkeys(clean_lang(tag) for tag in tags if isinstance(tag, str) and tag.strip()))
    cleaned = [tag for tag in cleaned if tag != source]
    if not cleaned:
        raise InvalidArticle("Choose at least one language to translate into (other than the source).")
    if len(cleaned) > MAX_TARGETS:
        raise InvalidArticle(f"At most {MAX_TARGETS} languages at once (there are {len(cleaned)}).")
    return cleaned


def machine_translate(article: Article, source: object, targets: Iterable[object], *,
                      replace_human: bool = False) -> TranslationReport:
    """Translate ``article``'s ``source`` version into each of ``targets`` (BCP 47 tags)
    with the configured engine, as drafts: ``machine_translated`` and ``needs_review``,
    hidden from buyers until an agent reviews them. A target's existing machine version is
    replaced; a version written by a person only with ``replace_human``. Runs the engine
    synchronously (through its cache), with no transaction open while it works; then
    writes every new version in one commit.

    Raises:
        InvalidArticle: a bad tag, no target, too many, or no ``source`` version.
        FaqError: no translation engine is configured at all (``TRANSLATION_ENGINE=none``).
    """
    source = clean_lang(source)
    version = article.version(source)
    if version is None:
        raise InvalidArticle(f"This article has no {source} version to translate from.")
    targets = _targets(targets, source)
    if resolve_name(current_app.config.get("TRANSLATION_ENGINE", "auto")) == "none":
        raise FaqError("Machine translation is not available: no translation engine is installed "
                       "(install requirements-translate.txt and a model with flask translate models install).")
    original = {"question": version.question, "phrasings": list(version.phrasings or []),
                "keywords": list(version.keywords or []), "answer": version.answer}
    existing = {v.lang: v.machine_translated for v in article.versions}
    article_id = article.id
    db.session.rollback()  # nothing held while the engine works
    report, drafts = TranslationReport(), []
    for target in targets:
        if target in existing and not existing[target] and not replace_human:
            report.kept.append(target)
            continue

        def translate(text: str, target: str = target) -> str:
            return translate_text(text, source, target).text

        try:
            drafts.append(clean_version({
                "lang": target, "question": translate(original["question"]),
                "phrasings": [translate(p) for p in original["phrasings"]],
                "keywords": [translate(k) for k in original["keywords"]],
                "answer": translate_markdown(original["answer"], translate),
                "machine_translated": True, "needs_review": True}))
        except NoTranslation as exc:
            report.unavailable[target] = str(exc)
        except (EngineFailed, TranslationError) as exc:
            report.failed[target] = str(exc)
        except InvalidArticle as exc:
            report.failed[target] = f"The translation does not fit: {exc}"
    if drafts:
        article = db.session.get(Article, article_id)
        for draft in drafts:
            _, created = apply_version(article, draft)
            (report.created if created else report.replaced).append(draft.lang)
        mark_changed(article.slug)
        db.session.commit()
    return report


def query_translator(text: str, source: str, target: str) -> str | None:
    """The FAQ's ``translator`` seam: ``text`` from ``source`` into ``target`` (BCP 47)
    through the engine and its cache, ``None`` when it cannot (no model, a failure)."""
    try:
        return translate_text(text, source, target).text
    except TranslationError:
        return None
