"""Instructor Portal: class management for infant-massage instructors and families."""

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import DEVELOPMENT_SECRET_KEY, config_for
from instructor_portal.db import DatabaseIdConverter, engine_options

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: str | type | dict | None = None) -> Flask:
    """Build the application; ``config`` is a config name, a config class or a dict of overrides."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    configure(app, config)
    app.url_map.converters["int"] = DatabaseIdConverter
    register_extensions(app)
    register_queue(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_template_helpers(app)
    register_commands(app)
    register_shell_context(app)
    register_wsgi_layers(app)
    return app


def configure(app: Flask, config) -> None:
    if isinstance(config, dict):
        app.config.from_object(config_for("testing" if config.get("TESTING") else None))
        app.config.update(config)
    else:
        app.config.from_object(config_for(config) if config is None or isinstance(config, str) else config)
    secret = app.config.get("SECRET_KEY") or ""
    if app.config["ENV_NAME"] == "production" and (secret == DEVELOPMENT_SECRET_KEY or len(secret) < 32):
        raise RuntimeError("Refusing to start in production without a real SECRET_KEY (32 or more random characters).")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"],
        app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        lock_timeout=app.config["DATABASE_LOCK_TIMEOUT"],
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)


def register_extensions(app: Flask) -> None:
    from instructor_portal.catalogue.cache import watch_catalogue_changes
    from instructor_portal.extensions import cache, csrf, db, limiter, login_manager, migrate
    from instructor_portal.locks import watch_transactions

    db.init_app(app)
    watch_transactions()
    watch_catalogue_changes()
    cache.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"

    from instructor_portal.accounts.sign_ins import load_user

    login_manager.user_loader(load_user)


def register_queue(app: Flask) -> None:
    from instructor_portal.queue import configure_queue

    configure_queue(app)


def register_blueprints(app: Flask) -> None:
    from instructor_portal.accounts.routes import bp as accounts_bp
    from instructor_portal.attendance.routes import bp as attendance_bp
    from instructor_portal.booking.routes import bp as booking_bp
    from instructor_portal.calendar_feeds.routes import bp as calendar_feeds_bp
    from instructor_portal.catalogue.routes import bp as catalogue_bp
    from instructor_portal.handouts.routes import bp as handouts_bp
    from instructor_portal.messages.routes import bp as messages_bp
    from instructor_portal.ops import bp as ops_bp
    from instructor_portal.organiser.routes import bp as organiser_bp
    from instructor_portal.payments.routes import bp as payments_bp
    from instructor_portal.reminders.routes import bp as reminders_bp
    from instructor_portal.teaching.evaluation_pages import bp as evaluations_bp
    from instructor_portal.teaching.routes import bp as teaching_bp
    from instructor_portal.waitlist.routes import bp as waitlist_bp

    add_pages_to_blueprints()

    app.register_blueprint(catalogue_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(booking_bp)
    app.register_blueprint(waitlist_bp)  # its routes span /classes, /account and /teach
    app.register_blueprint(payments_bp)
    app.register_blueprint(reminders_bp)  # its routes span /check-in and /account
    app.register_blueprint(teaching_bp, url_prefix="/teach")
    app.register_blueprint(attendance_bp, url_prefix="/teach")
    app.register_blueprint(calendar_feeds_bp)  # /calendar/<secret>.ics and the account's buttons
    app.register_blueprint(handouts_bp)  # its routes span /teach, /organiser and /handouts
    app.register_blueprint(evaluations_bp)  # families answer at /evaluations/<token>, signed in or not
    app.register_blueprint(messages_bp)  # its routes span /teach and /organiser
    app.register_blueprint(organiser_bp, url_prefix="/organiser")
    app.register_blueprint(ops_bp)


def add_pages_to_blueprints() -> None:
    """Import the page modules that add their routes to the teaching and organiser blueprints."""
    from instructor_portal.organiser import credential_pages, evaluation_pages  # noqa: F401
    from instructor_portal.teaching import credential_pages as teaching_credential_pages  # noqa: F401


def register_error_handlers(app: Flask) -> None:
    from instructor_portal.errors import register_error_handlers as register

    register(app)


def register_security_headers(app: Flask) -> None:
    from instructor_portal import security

    security.register(app)


def register_template_helpers(app: Flask) -> None:
    from instructor_portal import templating

    templating.register(app)


def register_commands(app: Flask) -> None:
    from instructor_portal.cli import register

    register(app)


def register_wsgi_layers(app: Flask) -> None:
    """Visitors' cached pages in front of Flask, and outside them the proxy headers every layer relies on."""
    from instructor_portal.catalogue.visitor_pages import serve_visitor_pages

    serve_visitor_pages(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_shell_context(app: Flask) -> None:
    from instructor_portal import models
    from instructor_portal.extensions import db

    @app.shell_context_processor
    def shell_context():
        return {"db": db, **{name: getattr(models, name) for name in models.__all__}}
