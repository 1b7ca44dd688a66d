"""GET /healthz."""
from helpdesk import create_app


def test_healthz_ok_when_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_503_with_reason_when_database_unreachable(tmp_path):
    missing_dir = tmp_path / "no" / "such" / "dir" / "db.sqlite3"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing_dir}"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["reason"] == "database unreachable (OperationalError)"
    assert str(missing_dir) not in response.get_data(as_text=True)
