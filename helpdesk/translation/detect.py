"""Which language a message is in (lingua-language-detector, offline, its models inside
the wheel).

Short chat messages are hard ("ok", "Olá", "danke"): the detector only answers when it is
sure, that is when its best language has a confidence of at least :data:`MIN_CONFIDENCE`
and at least :data:`MIN_RATIO` times the runner-up's; otherwise the caller's fallback
(the conversation's language) is the answer. Order numbers, URLs, amounts and the like are
removed before detection (a URL is no evidence of a language). The detector knows only
the languages in ``TRANSLATION_DETECT_LANGUAGES``: fewer candidates, fewer confusions.

Two rules on top of lingua's answer:

* **A conversation in a language the detector does not know keeps it.** lingua's
  confidence values are relative to its candidates: Serbian (Latin) text scores 0.99
  Turkish when Serbian is not a candidate. The detector cannot answer "the fallback" then,
  so its answer is only the nearest wrong candidate and never replaces the fallback.
* **Chinese by script.** lingua answers "Chinese" for both scripts; the characters
  decide (``hanzidentifier``, from CC-CEDICT's Traditional/Simplified character sets):
  text only in Traditional characters is ``zh-Hant``, only in Simplified ``zh-Hans``;
  text of characters common to both (你好) keeps a Chinese fallback's script, else is
  ``zh-Hans``. Traditional text is never labelled Simplified.

The first detection in a process loads the language models (a few seconds, some hundred
MB for the default 14 languages); call it through
:func:`helpdesk.translation.worker.run_blocking`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import hanzidentifier

from helpdesk.translation.engines import translation_code
from helpdesk.translation.protect import protect

MIN_CONFIDENCE = 0.25
MIN_RATIO = 2.0
MIN_LETTERS = 2
DEFAULT_LANGUAGES = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "tr", "zh")


@dataclass(frozen=True)
class Detection:
    """``language``: a BCP 47 tag or ``None``; ``sure``: the detector said so itself
    (not the fallback); ``confidence``: the detector's best value (0–1)."""

    language: str | None
    sure: bool
    confidence: float


@functools.lru_cache(maxsize=4)
def _detector(languages: tuple[str, ...]):
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    try:
        codes = [getattr(IsoCode639_1, code.upper()) for code in languages]
    except AttributeError as exc:
        raise ValueError(f"TRANSLATION_DETECT_LANGUAGES: unknown ISO 639-1 code ({exc}).") from None
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def parse_languages(text: str) -> tuple[str, ...]:
    """``"pt de en"`` or ``"pt,de,en"`` → ``("de", "en", "pt")`` (at least two).

    Raises:
        ValueError: fewer than two codes, or one lingua does not know.
    """
    codes = tuple(sorted({code.strip().lower() for code in text.replace(",", " ").split() if code.strip()}))
    if len(codes) < 2:
        raise ValueError("TRANSLATION_DETECT_LANGUAGES needs at least two ISO 639-1 codes, such as 'en pt de'.")
    _detector(codes)
    return codes


def detect_language(text: str, *, fallback: str | None = None,
                    languages: tuple[str, ...] = DEFAULT_LANGUAGES) -> Detection:
    """The language of ``text``, or ``fallback`` when the detector is not sure.

    When the detector's language is the fallback's language, the fallback's more precise
    tag wins (``pt`` detected in a ``pt-BR`` conversation → ``pt-BR``; Traditional Chinese
    in a ``zh-Hant-TW`` conversation → ``zh-Hant-TW``). A fallback in a language outside
    ``languages`` is never overridden, and Chinese is told by script (module docstring).

    Args:
        text: the message.
        fallback: a BCP 47 tag (the conversation's language) or ``None``.
        languages: ISO 639-1 codes the detector chooses among.

    Returns:
        A :class:`Detection`; ``language`` is ``None`` only when unsure without a fallback.
    """
    plain = protect(text).plain
    if sum(ch.isalpha() for ch in plain) < MIN_LETTERS:
        return Detection(fallback, False, 0.0)
    values = _detector(tuple(languages)).compute_language_confidence_values(plain)
    best = values[0] if values else None
    runner_up = values[1].value if len(values) > 1 else 0.0
    if best is None or best.value < MIN_CONFIDENCE or best.value < MIN_RATIO * runner_up:
        return Detection(fallback, False, best.value if best else 0.0)
    fallback_code = translation_code(fallback)
    if fallback_code and fallback_code.split("-")[0] not in languages:
        return Detection(fallback, False, best.value)  # the detector could not have named it
    found = best.language.iso_code_639_1.name.lower()
    if found == "zh":
        found = chinese_script(plain, fallback_code)
    if fallback_code == found:
        return Detection(fallback, True, best.value)
    return Detection(found, True, best.value)


def chinese_script(text: str, fallback_code: str | None) -> str:
    """``zh-Hant`` or ``zh-Hans`` for Chinese ``text`` (see the module's rules):
    ``fallback_code`` is the conversation's translation code (``zh-Hant``, ``en``) or
    ``None``."""
    script = hanzidentifier.identify(text)
    if script == hanzidentifier.TRADITIONAL:
        return "zh-Hant"
    if script == hanzidentifier.SIMPLIFIED:
        return "zh-Hans"
    return fallback_code if fallback_code in ("zh-Hant", "zh-Hans") else "zh-Hans"
