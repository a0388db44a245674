"""The project's base exception and the registry's lookup error.

They live here, in the bottom package, so that :mod:`layers` imports nothing from :mod:`geo`;
:mod:`geo.errors` re-exports both (``geo.errors.LivabilityError is layers.errors.LivabilityError``),
so every ``except LivabilityError`` of the engine, the CLI and the app catches them.

An error carries either free English text (``StoreError("...")``, the long tail of CLI and build
errors) or a message an edge can render in its reader's language
(``StoreError(message=Message("store_schema", {...}))``, a :class:`geo.messages.Message`). Either
way ``str(exc)`` is the English text (the CLI, logs and tests read it); ``exc.message`` is the
message (None for free text) and ``exc.render(lang)`` the text in ``lang``.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["LivabilityError", "Renderable", "UnknownLayerError"]


class Renderable(Protocol):
    """What an error's message must offer (:class:`geo.messages.Message` does): its text in a
    language (``en``, ``sv``; others fall back to English)."""

    def render(self, lang: str = "en") -> str:
        """The message's text in ``lang``."""
        ...


class LivabilityError(Exception):
    """Base class of every error this project raises on purpose.

    Parameters
    ----------
    *args
        The English text (as for any exception), when there is no ``message``.
    message
        A message rendered at the edges in the reader's language; without ``args`` its English
        rendering is the exception's text.
    """

    message: Renderable | None

    def __init__(self, *args: object, message: Renderable | None = None) -> None:
        if message is not None and not args:
            args = (message.render("en"),)
        super().__init__(*args)
        self.message = message

    def render(self, lang: str = "en") -> str:
        """The error's text in ``lang``: its message rendered, or (free text) ``str(self)``."""
        return self.message.render(lang) if self.message is not None else str(self)


class UnknownLayerError(LivabilityError, KeyError):
    """A layer, indicator or persona key that is not in the registry."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""
