"""The machine-translation engine interface and its registry.

An engine turns text in one language into another. Engines are registered by name
(:func:`register`) and chosen by the ``TRANSLATION_ENGINE`` setting (:func:`engine_for`):
``argos`` (argos-translate, offline models; see :mod:`helpdesk.translation.argos`),
``none`` (translates nothing: every pair is "no translation"), or ``auto`` (the default:
``argos`` when the argostranslate package is installed, else ``none``). Tests and
plugins register their own.

Language codes given to engines are the helpdesk's *translation codes*
(:func:`translation_code`): the primary language subtag (``pt`` for ``pt-BR``), except
Chinese, which keeps its script (``zh-Hans``, ``zh-Hant``), since a model for one script
is no model for the other.
"""
from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable

from babel import Locale, UnknownLocaleError


class TranslationError(Exception):
    """Translation did not happen; ``code`` is stable for clients, the message is for people."""

    code = "translation_failed"

    def __init__(self, message: str, *, source: str | None = None, target: str | None = None):
        super().__init__(message)
        self.source, self.target = source, target


class NoTranslation(TranslationError):
    """The engine has no model for this pair (not even through English)."""

    code = "no_translation"

    def __init__(self, source: str, target: str):
        super().__init__(f"No translation for {source}→{target}", source=source, target=target)


class EngineFailed(TranslationError):
    """The engine has the pair but failed (a corrupt model, out of memory, ...)."""

    code = "translation_failed"


class TranslationEngine:
    """One way of translating. Subclasses set ``name`` and implement :meth:`translate`
    and :meth:`version`; both may be called from a worker thread.

    Engines receive text whose protected values are placeholders ``[1]``, ``[2]``
    (:mod:`helpdesk.translation.protect`) and should keep them.
    """

    name = "base"

    def translate(self, text: str, source: str, target: str) -> str:
        """``text`` (plain text) from ``source`` into ``target`` (translation codes).

        Raises:
            NoTranslation: no model for the pair.
            EngineFailed: the model is there but failed.
        """
        raise NotImplementedError

    def version(self, source: str, target: str) -> str:
        """What identifies the model(s) used for the pair, for the translation cache: a
        new model version must not be answered from the old one's cache. At most 200
        characters.

        Raises:
            NoTranslation: no model for the pair.
        """
        raise NotImplementedError

    def pairs(self) -> set[tuple[str, str]]:
        """The pairs with a direct model, as ``(source, target)`` translation codes."""
        return set()


class NoneEngine(TranslationEngine):
    """Translates nothing: every pair is :class:`NoTranslation`. Used when no engine is
    installed; messages are still delivered, marked "no translation for pt→en"."""

    name = "none"

    def translate(self, text: str, source: str, target: str) -> str:
        raise NoTranslation(source, target)

    def version(self, source: str, target: str) -> str:
        raise NoTranslation(source, target)


_FACTORIES: dict[str, Callable[[dict], TranslationEngine]] = {}
_INSTANCES: dict[tuple[str, int], TranslationEngine] = {}
_LOCK = threading.Lock()


def register(name: str, factory: Callable[[dict], TranslationEngine]) -> None:
    """Make an engine available as ``TRANSLATION_ENGINE=name``. ``factory(config)`` gets
    the app's config mapping and returns the engine; it is called once per app."""
    _FACTORIES[name] = factory
    for key in [key for key in _INSTANCES if key[0] == name]:
        del _INSTANCES[key]


def registered() -> list[str]:
    """Names of the registered engines (plus ``auto``)."""
    return sorted([*_FACTORIES, "auto"])


def resolve_name(name: str) -> str:
    """``auto`` → ``argos`` when argostranslate is installed (checked without importing
    it), else ``none``; any other name as given.

    Raises:
        TranslationError: an unknown engine name.
    """
    if name == "auto":
        return "argos" if importlib.util.find_spec("argostranslate") is not None else "none"
    if name not in _FACTORIES:
        raise TranslationError(f"Unknown translation engine {name!r}; known: {', '.join(registered())}.")
    return name


def engine_for(config: dict) -> TranslationEngine:
    """The engine ``config["TRANSLATION_ENGINE"]`` names, made once per app config.

    Raises:
        TranslationError: an unknown engine name.
    """
    name = resolve_name(config.get("TRANSLATION_ENGINE", "auto"))
    key = (name, id(config))
    with _LOCK:
        if key not in _INSTANCES:
            _INSTANCES[key] = _FACTORIES[name](config)
        return _INSTANCES[key]


def translation_code(tag: str | None) -> str | None:
    """The code engines and the cache use for a BCP 47 tag: the language subtag, lower
    case (``pt-BR`` → ``pt``), but Chinese by script (``zh-TW``, ``zh-Hant-HK`` →
    ``zh-Hant``; ``zh``, ``zh-CN``, ``zh-Hans`` → ``zh-Hans``). ``None`` for no tag or one
    CLDR does not know."""
    if not tag:
        return None
    try:
        locale = Locale.parse(tag.strip().replace("_", "-"), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    if locale.language == "zh":
        script = locale.script or ("Hant" if locale.territory in ("TW", "HK", "MO") else "Hans")
        return f"zh-{script}"
    return locale.language


register("none", lambda config: NoneEngine())


def _argos(config: dict) -> TranslationEngine:
    from helpdesk.translation.argos import ArgosEngine  # argostranslate itself stays unimported

    return ArgosEngine(config)


register("argos", _argos)
