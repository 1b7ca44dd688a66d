"""Domain events of the chat, for the parts that react to them (surveys, reports) without
editing chat code; the same style as :mod:`tickets.events`.

Blinker signals, sent **after** the change is committed, with the conversation as sender
and keyword arguments::

    from chat.signals import conversation_closed

    @conversation_closed.connect
    def send_survey(conversation, *, at, **extra):
        ...

``at`` is the aware UTC instant of the change. A receiver must catch and log its own
errors: the change is committed and the agent's action must still be answered.

Signals:
    conversation_closed: an agent closed the conversation.
"""
from __future__ import annotations

from blinker import Namespace

signals = Namespace()

conversation_closed = signals.signal("conversation-closed")
