"""Machine translation behind an engine interface (see DESIGN.md, layer 3).

- :mod:`~helpdesk.translation.engines`: the interface, the registry (``argos``, ``none``),
  translation codes;
- :mod:`~helpdesk.translation.argos`: argos-translate, imported lazily, and its models;
- :mod:`~helpdesk.translation.protect`: order numbers, URLs, amounts... kept out of reach;
- :mod:`~helpdesk.translation.detect`: the language of a message;
- :mod:`~helpdesk.translation.service`: :func:`translate_text` with the database cache;
- :mod:`~helpdesk.translation.worker`: the background job queue;
- :mod:`~helpdesk.translation.cli`: ``flask translate ...``.

Nothing here imports argostranslate, torch or lingua at import time.
"""
from helpdesk.translation.engines import (  # noqa: F401
    EngineFailed,
    NoTranslation,
    TranslationEngine,
    TranslationError,
    engine_for,
    register,
    translation_code,
)
