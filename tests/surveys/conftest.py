"""Fixtures for surveys: a solved ticket of buyer ana@example.pt (order #5001, Portugal)."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from helpdesk.extensions import db
from helpdesk.models import Order
from tickets import service as tickets
from tickets.service import Actor

SOLVED = datetime(2024, 6, 3, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def agent(make_agent):
    return make_agent(email="lukas@test.example", name="Lukas", team="EU returns")


@pytest.fixture
def open_ticket(app, order, agent):
    """``open_ticket(language="pt-BR", at=SOLVED) -> Ticket`` assigned to Lukas."""

    def make(language="pt-BR", at=SOLVED, subject="Chávena partida"):
        found = db.session.scalar(select(Order).where(Order.number == order))
        ticket = tickets.create_ticket(Actor.of_agent(agent), order=found, type="question", subject=subject,
                                       language=language, now=at)
        tickets.assign(ticket, Actor.of_agent(agent), agent_id=agent.id, now=at)
        return ticket

    return make


def solve(ticket, at, agent):
    tickets.set_status(ticket, Actor.of_agent(agent), "solved", now=at)


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def link_path(link: str) -> str:
    """``/survey/<token>?lang=...`` from the absolute link in an e-mail."""
    return "/" + link.split("/", 3)[3]
