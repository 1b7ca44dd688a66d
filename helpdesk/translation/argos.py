"""argos-translate as a translation engine, and its model management.

argostranslate (with torch, stanza, spacy, CTranslate2) is imported lazily, the first
time a model is needed, and takes 3–7 s and some hundreds of MB: only the translation
worker and the ``flask translate models`` commands pay for it. It reads its settings
from the environment at its first import, so :func:`load` sets safe defaults first:

- ``ARGOS_CHUNK_TYPE=MINISBD``: sentences are split with the package's own MiniSBD model
  (the stanza splitter downloads resources at the first translation of each process);
- ``ARGOS_DEVICE_TYPE=cpu``.

Its logger is lowered to WARNING (it would log every translated text at INFO).

Models live in ``TRANSLATION_MODELS_DIR`` (default ``instance/translation-models``, or
``ARGOS_PACKAGES_DIR`` when that is set): one folder per installed ``.argosmodel``,
nothing else. The serving processes and the CLI must see the same folder.

Language codes: the helpdesk's ``zh-Hans`` and ``zh-Hant`` are Argos's ``zh`` and ``zt``.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from helpdesk.translation.engines import EngineFailed, NoTranslation, TranslationEngine, TranslationError

log = logging.getLogger(__name__)

PIVOT = "en"
TO_ARGOS = {"zh-Hans": "zh", "zh-Hant": "zt"}
FROM_ARGOS = {value: key for key, value in TO_ARGOS.items()}
_LOAD_LOCK = threading.Lock()
_loaded_dir: Path | None = None


class ModelError(TranslationError):
    """A model could not be installed, found or removed; the message says why."""

    code = "model_error"


def models_dir(config: dict) -> Path:
    """The folder argos-translate installs models into and reads them from."""
    return Path(config["TRANSLATION_MODELS_DIR"])


def load(config: dict):
    """Import argostranslate (once per process) pointed at ``models_dir(config)``.

    Returns:
        ``(argostranslate.package, argostranslate.translate)``.

    Raises:
        ModelError: argostranslate is not installed.
    """
    global _loaded_dir
    folder = models_dir(config)
    with _LOAD_LOCK:
        os.environ.setdefault("ARGOS_CHUNK_TYPE", "MINISBD")
        os.environ.setdefault("ARGOS_DEVICE_TYPE", "cpu")
        os.environ.setdefault("ARGOS_PACKAGES_DIR", str(folder))
        try:
            import argostranslate.package as package
            import argostranslate.settings as settings
            import argostranslate.translate as translate
        except ImportError as exc:
            raise ModelError(f"argos-translate is not installed ({exc}); .venv/bin/pip install -r requirements-translate.txt.") from None
        if _loaded_dir is None and not settings.debug:
            # argostranslate logs every text it translates at INFO, whatever the root level:
            # buyers' messages do not belong in the logs.
            logging.getLogger("argostranslate.utils").setLevel(logging.WARNING)
        if _loaded_dir != folder:
            folder.mkdir(parents=True, exist_ok=True)
            settings.package_data_dir = folder
            settings.package_dirs = [folder]
            _loaded_dir = folder
            forget_loaded_models(translate)
    return package, translate


def forget_loaded_models(translate) -> None:
    """Drop argostranslate's in-process caches, which never notice an install or removal
    by themselves (``installed_translates`` would keep using a removed model)."""
    translate.installed_translates.clear()
    translate.get_installed_languages.cache_clear()


def to_argos(code: str) -> str:
    return TO_ARGOS.get(code, code)


def from_argos(code: str) -> str:
    return FROM_ARGOS.get(code, code)


@dataclass(frozen=True)
class InstalledModel:
    """An installed model: translation codes, the package's version, its folder."""

    source: str
    target: str
    version: str
    path: Path

    @property
    def pair(self) -> str:
        return f"{self.source}→{self.target}"


def installed_models(config: dict) -> list[InstalledModel]:
    """Every installed translation model, sorted by pair."""
    package, _ = load(config)
    found = [InstalledModel(from_argos(p.from_code), from_argos(p.to_code), str(getattr(p, "package_version", "") or ""),
                            Path(p.package_path))
             for p in package.get_installed_packages() if getattr(p, "type", "translate") == "translate"]
    return sorted(found, key=lambda m: (m.source, m.target))


RESCAN_SECONDS = 5.0
_scanned: dict[Path, tuple[float, list[InstalledModel]]] = {}


def scan(config: dict) -> list[InstalledModel]:
    """:func:`installed_models`, remembered for a few seconds: a model installed or removed
    by this process is seen at once, one changed by another process (the CLI) within
    :data:`RESCAN_SECONDS`; argostranslate's own caches are dropped when the list changes."""
    folder = models_dir(config)
    with _LOAD_LOCK:
        at, models = _scanned.get(folder, (float("-inf"), None))
    if models is not None and time.monotonic() - at < RESCAN_SECONDS:
        return models
    fresh = installed_models(config)
    if models is not None and fresh != models:
        forget_loaded_models(load(config)[1])
    with _LOAD_LOCK:
        _scanned[folder] = (time.monotonic(), fresh)
    return fresh


def _changed(config: dict, translate) -> None:
    forget_loaded_models(translate)
    _scanned.pop(models_dir(config), None)


class ArgosEngine(TranslationEngine):
    """argos-translate: offline neural models, one per language pair; pivots through
    English when there is no direct model (pt→de as pt→en→de)."""

    name = "argos"

    def __init__(self, config: dict):
        self.config = config

    def _models(self) -> dict[tuple[str, str], InstalledModel]:
        return {(m.source, m.target): m for m in scan(self.config)}

    def route(self, source: str, target: str) -> list[InstalledModel]:
        """The models that take ``source`` to ``target``: one, or two through English.

        Raises:
            NoTranslation: neither a direct model nor both halves through English.
        """
        models = self._models()
        if (source, target) in models:
            return [models[source, target]]
        if PIVOT not in (source, target) and (source, PIVOT) in models and (PIVOT, target) in models:
            return [models[source, PIVOT], models[PIVOT, target]]
        raise NoTranslation(source, target)

    def pairs(self) -> set[tuple[str, str]]:
        return set(self._models())

    def version(self, source: str, target: str) -> str:
        from importlib.metadata import version

        hops = "+".join(f"{m.source}-{m.target}@{m.version or '?'}" for m in self.route(source, target))
        return f"argostranslate {version('argostranslate')} {hops}"[:200]

    def translate(self, text: str, source: str, target: str) -> str:
        route = self.route(source, target)
        _, translate = load(self.config)
        for model in route:
            try:
                translation = translate.get_translation_from_codes(to_argos(model.source), to_argos(model.target))
                if translation is None:  # installed after argos cached its language list
                    forget_loaded_models(translate)
                    translation = translate.get_translation_from_codes(to_argos(model.source), to_argos(model.target))
                if translation is None:
                    raise NoTranslation(source, target)
                text = translation.translate(text)
            except TranslationError:
                raise
            except Exception as exc:  # a corrupt or incompatible model: say so, keep the message
                log.warning("argos translation %s failed: %s", model.pair, exc)
                raise EngineFailed(f"The {model.pair} model failed: {type(exc).__name__}: {exc}"[:300],
                                   source=source, target=target) from exc
        return text


def check_archive(path: Path) -> dict:
    """The ``metadata.json`` of an ``.argosmodel`` file, after checking it is a zip with
    one top-level folder holding that metadata (anything else would break the models folder).

    Raises:
        ModelError: not such a file.
    """
    if not path.is_file():
        raise ModelError(f"{path} does not exist.")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path} is not an .argosmodel file (not a zip archive).")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        tops = {name.split("/", 1)[0] for name in names}
        if len(tops) != 1 or any(name.startswith("/") or ".." in name.split("/") for name in names):
            raise ModelError(f"{path} is not an .argosmodel file (it must hold exactly one folder).")
        try:
            metadata = json.loads(archive.read(f"{tops.pop()}/metadata.json"))
        except (KeyError, ValueError) as exc:
            raise ModelError(f"{path} has no readable metadata.json ({exc}).") from None
    if not isinstance(metadata, dict) or not metadata.get("from_code") or not metadata.get("to_code"):
        raise ModelError(f"{path}: metadata.json names no from_code and to_code.")
    return metadata


def install_file(config: dict, path: Path) -> InstalledModel:
    """Install an ``.argosmodel`` file (replacing an installed model of the same pair).

    Raises:
        ModelError: not a valid model file.
    """
    metadata = check_archive(path)
    source, target = from_argos(metadata["from_code"]), from_argos(metadata["to_code"])
    package, translate = load(config)
    for model in installed_models(config):
        if (model.source, model.target) == (source, target):
            remove(config, source, target)
    try:
        package.install_from_path(path)
    except Exception as exc:
        raise ModelError(f"Installing {path} failed: {exc}") from None
    _changed(config, translate)
    for model in installed_models(config):
        if (model.source, model.target) == (source, target):
            return model
    raise ModelError(f"{path} was unpacked but argos-translate does not list {source}→{target}.")


def remove(config: dict, source: str, target: str) -> InstalledModel:
    """Uninstall the model for ``source``→``target`` (translation codes).

    Raises:
        ModelError: no such model is installed.
    """
    package, translate = load(config)
    for installed in package.get_installed_packages():
        if (from_argos(installed.from_code), from_argos(installed.to_code)) == (source, target):
            model = InstalledModel(source, target, str(getattr(installed, "package_version", "") or ""),
                                   Path(installed.package_path))
            package.uninstall(installed)
            _changed(config, translate)
            return model
    raise ModelError(f"No model for {source}→{target} is installed.")


def install_from_index(config: dict, source: str, target: str, *,
                       progress: Callable[[int, int | None], None] | None = None) -> InstalledModel:
    """Download the ``source``→``target`` model named in the package index at
    ``TRANSLATION_PACKAGE_INDEX`` (Argos's public index by default) and install it.

    Args:
        progress: called as ``progress(bytes_so_far, total_bytes_or_None)`` while downloading.

    Raises:
        ModelError: the index or the download cannot be reached (offline), or the index
            has no such model.
    """
    import requests

    index_url = config.get("TRANSLATION_PACKAGE_INDEX")
    if not index_url:
        load(config)
        from argostranslate.settings import remote_package_index as index_url
    try:
        response = requests.get(index_url, timeout=15)
        response.raise_for_status()
        index = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ModelError(f"Cannot read the model index at {index_url} ({type(exc).__name__}). Offline? Install "
                         "from a file instead: flask translate models install FILE.argosmodel") from None
    wanted = (to_argos(source), to_argos(target))
    entry = next((e for e in index if isinstance(e, dict) and (e.get("from_code"), e.get("to_code")) == wanted
                  and e.get("type", "translate") == "translate"), None)
    if entry is None or not entry.get("links"):
        raise ModelError(f"The model index has no {source}→{target} model.")
    with tempfile.TemporaryDirectory(prefix="argosmodel-") as tmp:
        path = Path(tmp) / f"{wanted[0]}_{wanted[1]}.argosmodel"
        link = entry["links"][0]
        try:
            with requests.get(link, stream=True, timeout=30) as download, path.open("wb") as out:
                download.raise_for_status()
                total = int(download.headers.get("Content-Length") or 0) or None
                done = 0
                for chunk in download.iter_content(1 << 16):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        except requests.RequestException as exc:
            raise ModelError(f"Downloading {link} failed ({type(exc).__name__}).") from None
        return install_file(config, path)
