"""WSGI entry point: ``gunicorn wsgi:app`` (or ``flask --app wsgi run`` in development)."""
from helpdesk import create_app

app = create_app()
