"""Surveys on SQLite and PostgreSQL: sent once per ticket through a real SMTP server
(aiosmtpd), in the buyer's language; signed links that expire and cannot be altered or
used for another purpose; GET never rates; answers change within the window, then lock;
one reminder; low ratings become follow-ups; chats get their survey too."""
from __future__ import annotations

import re
import threading
from datetime import timedelta
from decimal import Decimal

import flask_babel
import pytest
from sqlalchemy import func, select

from chat import service as chat
from chat.tokens import issue_buyer_token
from helpdesk.dbtypes import utcnow
from helpdesk.extensions import db
from helpdesk.surveys import service
from helpdesk.surveys.models import Survey, SurveyFollowUp
from tests.surveys.conftest import SOLVED, csrf_token, link_path, solve
from tickets import service as tickets
from tickets.models import TicketEvent
from tickets.service import Actor

HOUR = timedelta(hours=1)


def surveys() -> list[Survey]:
    return db.session.scalars(select(Survey).order_by(Survey.id)).all()


def link_in(mail) -> str:
    return re.search(r"http://\S+/survey/\S+", mail.get_content()).group(0)


def test_csat_is_the_share_of_4_and_5_among_answers():
    assert service.csat_share([5, 4, 3, 1]) == Decimal("0.5")
    assert service.csat_share([4, 4, 5]) == Decimal(1)
    assert service.csat_share([1, 2, 3]) == Decimal(0)
    assert service.csat_share([5, 3, 3]) == Decimal(1) / Decimal(3)
    assert service.csat_share([]) is None


def test_a_ticket_gets_one_survey_however_often_it_is_solved(app, open_ticket, agent, smtp_server):
    ticket = open_ticket()
    solve(ticket, SOLVED, agent)
    assert service.send_due_surveys(SOLVED + timedelta(minutes=59)) == 0  # SURVEY_DELAY_MINUTES = 60
    assert service.send_due_surveys(SOLVED + timedelta(minutes=60)) == 1
    tickets.set_status(ticket, Actor.of_agent(agent), "open", now=SOLVED + 2 * HOUR)
    solve(ticket, SOLVED + 3 * HOUR, agent)
    assert service.send_due_surveys(SOLVED + 10 * HOUR) == 0
    assert len(surveys()) == 1 and len(smtp_server.messages) == 1
    [mail] = smtp_server.messages
    assert mail["To"] == "Ana Sousa <ana@example.pt>"
    assert mail["Subject"] == "Como foi nosso atendimento?"  # the buyer's language
    body = mail.get_content()
    assert "3 de junho de 2024" in body  # the buyer's language (pt-BR), whatever the agent's
    assert "Chávena partida" in body
    assert link_in(mail).startswith("http://localhost:5000/survey/") and link_in(mail).endswith("?lang=pt-BR")
    [survey] = surveys()
    assert (survey.agent.display_name, survey.team.name, survey.country, survey.ticket_type) == (
        "Lukas", "EU returns", "PT", "question")
    assert survey.expires_at == SOLVED + HOUR + timedelta(days=30)


def test_a_ticket_reopened_before_the_survey_went_out_waits_for_the_next_solve(app, open_ticket, agent,
                                                                              smtp_server):
    ticket = open_ticket()
    solve(ticket, SOLVED, agent)
    tickets.add_message(ticket, Actor.of_buyer(ticket.customer_id), "Afinal não chegou", now=SOLVED + HOUR / 6)
    assert ticket.status == "open"
    assert service.send_due_surveys(SOLVED + 5 * HOUR) == 0
    solve(ticket, SOLVED + 6 * HOUR, agent)
    assert service.send_due_surveys(SOLVED + 6.5 * HOUR) == 0
    assert service.send_due_surveys(SOLVED + 7 * HOUR) == 1
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("reason", ["spam", "merged", "internal", "test"])
def test_no_survey_for_excluded_cases(app, open_ticket, agent, smtp_server, reason):
    ticket = open_ticket()
    service.exclude_ticket(ticket, reason)
    solve(ticket, SOLVED, agent)
    assert surveys() == []
    assert service.send_due_surveys(SOLVED + 2 * HOUR) == 0 and smtp_server.messages == []


def test_exclusion_after_the_solve_stops_the_unsent_survey(app, open_ticket, agent, smtp_server):
    ticket = open_ticket()
    solve(ticket, SOLVED, agent)
    service.exclude_ticket(ticket, "spam")
    assert service.send_due_surveys(SOLVED + 2 * HOUR) == 0 and smtp_server.messages == []
    with pytest.raises(service.InvalidAnswer):
        service.exclude_ticket(ticket, "boring")


def test_two_senders_at_once_send_each_survey_once(app, open_ticket, agent, smtp_server):
    for n in range(4):
        solve(open_ticket(subject=f"Case {n}"), SOLVED, agent)
    barrier, counts = threading.Barrier(2), []

    def run():
        with app.app_context():
            barrier.wait()
            counts.append(service.send_due_surveys(SOLVED + 2 * HOUR))
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(counts) == 4
    assert sorted(m["Subject"] for m in smtp_server.messages) == ["Como foi nosso atendimento?"] * 4
    assert len({m.get_content() for m in smtp_server.messages}) == 4


def test_a_failed_email_is_tried_again_on_the_next_run(app, open_ticket, agent, smtp_server):
    solve(open_ticket(), SOLVED, agent)
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 1  # nothing listens there
    assert service.send_due_surveys(SOLVED + 2 * HOUR) == 0
    assert surveys()[0].sent_at is None
    app.config["MAIL_PORT"] = port
    assert service.send_due_surveys(SOLVED + 3 * HOUR) == 1
    assert len(smtp_server.messages) == 1


def sent_survey(open_ticket, agent, smtp_server, *, sent_at=None):
    """A survey e-mailed at ``sent_at`` (default: an hour ago, so its link is live), and
    its link's path opened in English (the e-mailed link names the buyer's pt-BR; these
    tests read the English messages)."""
    at = sent_at or utcnow() - HOUR
    solve(open_ticket(at=at - 2 * HOUR), at - 2 * HOUR, agent)
    assert service.send_due_surveys(at) == 1
    path = link_path(link_in(smtp_server.messages[-1]))
    assert path.endswith("?lang=pt-BR")
    return surveys()[0], path.replace("?lang=pt-BR", "?lang=en")


def test_opening_the_link_never_rates_and_the_form_posts_the_rating(client, open_ticket, agent, smtp_server):
    survey, path = sent_survey(open_ticket, agent, smtp_server)
    for _ in range(3):
        page = client.get(path)
        assert page.status_code == 200 and 'name="rating"' in page.get_data(as_text=True)
    assert client.head(path).status_code == 200
    db.session.refresh(survey)
    assert (survey.rating, survey.answered_at) == (None, None)
    flask_babel.refresh()  # the test's long-lived app context keeps the locale of the last request
    in_portuguese = client.get(path.replace("?lang=en", "?lang=pt-BR")).get_data(as_text=True)
    flask_babel.refresh()
    assert 'lang="pt-BR"' in in_portuguese and "Como foi nosso atendimento?" in in_portuguese

    answer = client.post(path, data={"csrf_token": csrf_token(client.get(path).get_data(as_text=True)),
                                     "rating": "5", "reason": "slow", "comment": "Muito obrigada 😊"})
    assert answer.status_code == 200 and "We saved your rating: 5 of 5." in answer.get_data(as_text=True)
    db.session.refresh(survey)
    assert (survey.rating, survey.reason, survey.comment) == (5, None, "Muito obrigada 😊")  # no complaint at 5
    assert db.session.scalar(select(func.count()).select_from(SurveyFollowUp)) == 0


def test_a_post_without_the_pages_csrf_token_is_refused(client, open_ticket, agent, smtp_server):
    survey, path = sent_survey(open_ticket, agent, smtp_server)
    assert client.post(path, data={"rating": "1"}).status_code == 400
    db.session.refresh(survey)
    assert survey.rating is None


def test_altered_foreign_and_expired_links_are_refused(client, app, open_ticket, agent, smtp_server):
    survey, path = sent_survey(open_ticket, agent, smtp_server)
    token = path.split("/")[2].split("?")[0]
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with app.test_request_context():
        chat_token = issue_buyer_token("abc")
    for bad in (altered, chat_token, "x" * 600, "not-a-token"):
        answer = client.get(f"/survey/{bad}")
        assert answer.status_code == 404
        assert "This survey link is not valid." in answer.get_data(as_text=True)
        assert client.post(f"/survey/{bad}", data={"rating": "1"}).status_code in (400, 404)
    survey.nonce = "another"  # the row's nonce changed: the old token names nothing
    db.session.commit()
    assert client.get(path).status_code == 404

    db.session.execute(Survey.__table__.delete())
    db.session.commit()
    old, old_path = sent_survey(open_ticket, agent, smtp_server, sent_at=utcnow() - timedelta(days=31))
    answer = client.get(old_path)
    assert answer.status_code == 410 and "This survey has closed." in answer.get_data(as_text=True)


def test_the_rating_may_change_within_the_window_then_it_is_locked(client, open_ticket, agent, smtp_server):
    survey, path = sent_survey(open_ticket, agent, smtp_server)
    token = csrf_token(client.get(path).get_data(as_text=True))
    t = utcnow()
    service.record_answer(survey, rating="3", reason="slow", comment="Demorou", now=t)
    service.record_answer(survey, rating=4, comment="Afinal bem", now=t + timedelta(hours=47))
    db.session.refresh(survey)
    assert (survey.rating, survey.reason, survey.comment, survey.answered_at, survey.changed_at) == (
        4, None, "Afinal bem", t, t + timedelta(hours=47))
    with pytest.raises(service.AnswerLocked):
        service.record_answer(survey, rating=1, now=t + timedelta(hours=48))
    db.session.refresh(survey)
    assert survey.rating == 4

    survey.answered_at = utcnow() - timedelta(hours=49)  # answered long ago: the page says so
    db.session.commit()
    page = client.get(path).get_data(as_text=True)
    assert "your rating was 4 of 5" in page and 'name="rating"' not in page
    answer = client.post(path, data={"csrf_token": token, "rating": "1"})
    assert answer.status_code == 409 and "can no longer be changed" in answer.get_data(as_text=True)
    db.session.refresh(survey)
    assert survey.rating == 4


@pytest.mark.parametrize("form, message", [
    ({"rating": "6"}, "Choose a rating from 1 to 5."),
    ({"rating": ""}, "Choose a rating from 1 to 5."),
    ({"rating": "1", "reason": "<script>"}, "Choose one of the reasons shown, or none."),
    ({"rating": "2", "comment": "x" * 5001}, "The comment is too long"),
    ({"rating": "2", "nps": "7"}, "from 0 to 10"),  # this survey does not ask NPS
])
def test_bad_answers_are_refused_and_nothing_is_saved(client, open_ticket, agent, smtp_server, form, message):
    survey, path = sent_survey(open_ticket, agent, smtp_server)
    answer = client.post(path, data={"csrf_token": csrf_token(client.get(path).get_data(as_text=True)), **form})
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    db.session.refresh(survey)
    assert (survey.rating, survey.answered_at) == (None, None)
    assert db.session.scalar(select(func.count()).select_from(SurveyFollowUp)) == 0


def test_a_lone_surrogate_in_the_comment_is_refused(app, open_ticket, agent, smtp_server):
    survey, _path = sent_survey(open_ticket, agent, smtp_server)  # forms cannot carry one: the service is asked
    with app.test_request_context(), pytest.raises(service.InvalidAnswer, match="cannot be stored"):
        service.record_answer(survey, rating=2, comment="bad \ud800 surrogate", now=utcnow())
    db.session.refresh(survey)
    assert survey.rating is None


def test_one_reminder_when_unanswered(app, open_ticket, agent, smtp_server):
    solve(open_ticket(), SOLVED, agent)
    service.send_due_surveys(SOLVED + HOUR)
    assert service.send_reminders(SOLVED + HOUR + timedelta(hours=71)) == 0
    assert service.send_reminders(SOLVED + HOUR + timedelta(hours=72)) == 1
    assert service.send_reminders(SOLVED + HOUR + timedelta(hours=200)) == 0
    first, reminder = smtp_server.messages
    assert reminder["Subject"] == "Lembrete: como foi nosso atendimento?"
    assert link_in(reminder) == link_in(first)  # the same link still works

    solve(open_ticket(subject="Outra"), SOLVED, agent)
    service.send_due_surveys(SOLVED + HOUR)
    answered = surveys()[1]
    service.record_answer(answered, rating=5, now=SOLVED + 2 * HOUR)
    assert service.send_reminders(SOLVED + timedelta(days=5)) == 0
    assert service.send_reminders(SOLVED + timedelta(days=40)) == 0  # expired: no reminder either
    assert len(smtp_server.messages) == 3


def test_a_low_rating_becomes_a_follow_up_for_the_manager(client, app, open_ticket, agent, smtp_server,
                                                          make_agent, login):
    app.config["SURVEY_LOW_SCORE_REOPENS"] = True
    try:
        survey, path = sent_survey(open_ticket, agent, smtp_server)
        t = utcnow()
        service.record_answer(survey, rating="1", reason="not_solved", comment="Ainda partida <b>!</b>", now=t)
        service.record_answer(survey, rating="2", reason="not_solved", comment="Ainda partida <b>!</b>",
                              now=t + timedelta(minutes=1))  # the open follow-up shows the changed rating
    finally:
        app.config["SURVEY_LOW_SCORE_REOPENS"] = False
    [follow_up] = db.session.scalars(select(SurveyFollowUp)).all()
    assert (follow_up.rating, follow_up.comment, follow_up.translated, follow_up.state) == (
        2, "Ainda partida <b>!</b>", None, "open")
    assert follow_up.translation_note.startswith("Not translated")
    ticket = survey.ticket
    db.session.refresh(ticket)
    assert ticket.status == "open"
    kinds = [e.kind for e in db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))]
    assert "csat_follow_up" in kinds

    manager = login(email="maria@test.example", name="Maria", role="manager")
    page = client.get("/surveys/follow-ups").get_data(as_text=True)
    assert "Ainda partida &lt;b&gt;!&lt;/b&gt;" in page and "rated 2 of 5" in page and "changed by the buyer" in page
    other_team = make_agent(email="li@test.example", name="Li", team="Asia").team_id
    assert "rated 2 of 5" in client.get(f"/surveys/follow-ups?team={agent.team_id}").get_data(as_text=True)
    assert "rated 2 of 5" not in client.get(f"/surveys/follow-ups?team={other_team}").get_data(as_text=True)
    service.record_answer(survey, rating="5", comment="Resolvido, obrigado", now=t + timedelta(minutes=2))
    db.session.refresh(follow_up)
    assert (follow_up.rating, follow_up.comment, follow_up.state) == (5, "Resolvido, obrigado", "open")
    token = csrf_token(page)
    assert client.post(f"/surveys/follow-ups/{follow_up.id}/done", data={"csrf_token": token, "note": " "}
                       ).status_code == 400
    done = client.post(f"/surveys/follow-ups/{follow_up.id}/done",
                       data={"csrf_token": token, "note": "Sent a new cup"}, follow_redirects=True)
    assert done.status_code == 200 and "The follow-up is done." in done.get_data(as_text=True)
    db.session.refresh(follow_up)
    assert (follow_up.state, follow_up.note, follow_up.done_by_id) == ("done", "Sent a new cup", manager.id)
    again = client.post(f"/surveys/follow-ups/{follow_up.id}/done", data={"csrf_token": token, "note": "x"})
    assert again.status_code == 409
    with pytest.raises(service.NotAllowed):
        service.close_follow_up(follow_up, agent, "me too", utcnow())


def test_an_agent_sees_their_own_ratings_only(client, app, open_ticket, agent, smtp_server, login, make_agent):
    survey, _path = sent_survey(open_ticket, agent, smtp_server)
    service.record_answer(survey, rating="4", comment="Simpático", now=utcnow())
    other = make_agent(email="other@test.example", name="Other")
    client.application.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"email": "lukas@test.example", "password": "correct horse battery"})
    client.application.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/surveys/ratings").get_data(as_text=True)
    assert "Simpático" in page and "100.0%" in page
    assert "Simpático" in client.get(f"/surveys/ratings?agent={other.id}").get_data(as_text=True)  # ignored
    assert client.get("/surveys/follow-ups").status_code == 200


def test_a_closed_chat_gets_its_survey_once(app, order, agent, smtp_server):
    conversation = chat.start_conversation(email="ana@example.pt", order_number="5001", language="de-DE")
    chat.post_message(conversation, sender="buyer", client_id="b1", body="Hallo")
    chat.set_status(conversation, "closed")
    chat.set_status(conversation, "open")
    chat.set_status(conversation, "closed")
    [survey] = surveys()
    assert (survey.conversation_id, survey.ticket_type, survey.language) == (conversation.id, "chat", "de-DE")
    assert service.send_due_surveys(utcnow() + 2 * HOUR) == 1
    assert link_in(smtp_server.messages[0]).endswith("?lang=de")

    empty = chat.start_conversation(email="ana@example.pt", order_number="5001")
    chat.set_status(empty, "closed")
    assert len(surveys()) == 1


def test_nps_is_asked_at_most_once_a_quarter_per_buyer(app, open_ticket, agent, smtp_server):
    app.config["SURVEY_NPS"] = True
    try:
        for n, at in enumerate((SOLVED, SOLVED + timedelta(days=20), SOLVED + timedelta(days=40))):
            solve(open_ticket(subject=f"Case {n}", at=at), at, agent)
            service.send_due_surveys(at + HOUR)
    finally:
        app.config["SURVEY_NPS"] = False
    # 3 June and 23 June are in the same quarter; 13 July starts the next one.
    assert [s.asks_nps for s in surveys()] == [True, False, True]
    first = surveys()[0]
    service.record_answer(first, rating=5, nps="9", now=SOLVED + 2 * HOUR)
    db.session.refresh(first)
    assert first.nps == 9


def test_the_send_due_command_the_scheduler_calls(app, open_ticket, agent, smtp_server):
    ticket = open_ticket()
    solve(ticket, SOLVED, agent)
    runner = app.test_cli_runner()
    early = runner.invoke(args=["surveys", "send-due", "--now", "2024-06-03T10:30:00"])
    assert (early.exit_code, early.output) == (0, "surveys sent: 0, reminders sent: 0\n")
    due = runner.invoke(args=["surveys", "send-due", "--now", "2024-06-03T13:00:00+02:00"])  # 11:00 UTC
    assert (due.exit_code, due.output) == (0, "surveys sent: 1, reminders sent: 0\n")
    later = runner.invoke(args=["surveys", "send-due", "--now", "2024-06-06T11:00:00Z"])
    assert (later.exit_code, later.output) == (0, "surveys sent: 0, reminders sent: 1\n")
    bad = runner.invoke(args=["surveys", "send-due", "--now", "tomorrow"])
    assert bad.exit_code == 2 and "use ISO 8601" in bad.output
    missing = runner.invoke(args=["surveys", "exclude", "999999", "spam"])
    assert missing.exit_code == 1 and "There is no ticket 999999." in missing.output
    done = runner.invoke(args=["surveys", "exclude", str(ticket.id), "merged"])
    assert done.exit_code == 0
    db.session.refresh(ticket)
    assert ticket.excluded_as == "merged"


def test_the_scheduler_sends_due_surveys_and_reminders_once(app, open_ticket, agent, smtp_server):
    from helpdesk.scheduler import run_job

    solve(open_ticket(), SOLVED, agent)
    assert run_job(app, "surveys", SOLVED + HOUR / 2) == "surveys sent=0 reminders=0"
    assert run_job(app, "surveys", SOLVED + HOUR) == "surveys sent=1 reminders=0"
    assert run_job(app, "surveys", SOLVED + HOUR) == "surveys sent=0 reminders=0"
    assert run_job(app, "surveys", SOLVED + 80 * HOUR) == "surveys sent=0 reminders=1"
    assert len(smtp_server.messages) == 2
    assert smtp_server.messages[0]["To"].endswith("<ana@example.pt>")
