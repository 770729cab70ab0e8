import pytest

from config import DEVELOPMENT_SECRET_KEY, ProductionConfig
from instructor_portal import create_app


def test_testing_config_is_used_for_overrides():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.testing
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("secret", [DEVELOPMENT_SECRET_KEY, "", "short"])
def test_production_refuses_to_start_without_a_real_secret_key(secret, monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_production_starts_with_a_real_secret_key_and_secure_cookies(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "x" * 48)
    app = create_app(ProductionConfig)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_database_url_selects_the_database(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://someone@127.0.0.1:5432/elsewhere")
    import importlib

    import config

    importlib.reload(config)
    try:
        assert config.Config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://someone@127.0.0.1:5432/elsewhere"
    finally:
        monkeypatch.delenv("DATABASE_URL")
        importlib.reload(config)
    assert config.Config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert config.Config.SQLALCHEMY_DATABASE_URI.endswith("instance/instructor_portal.sqlite")


def test_healthz_reports_the_database_and_the_storage(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "storage": "ok", "queue": "no worker has run yet"}


def test_trusted_proxy_setting_makes_rate_limits_see_the_client_address():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "TRUSTED_PROXIES": 1})
    seen = {}

    @app.get("/whoami")
    def whoami():
        from flask import request

        seen["address"] = request.remote_addr
        return ""

    app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen["address"] == "203.0.113.9"
