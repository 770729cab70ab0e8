"""Configuration classes; every setting can be overridden from the environment."""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

#: The development default; production refuses to start while it is still in use.
DEVELOPMENT_SECRET_KEY = "dev-only-secret-key-change-me"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


class Config:
    """Settings shared by every environment, read from the environment with safe defaults."""

    ENV_NAME = "base"

    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'instructor_portal.sqlite'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    #: The longest anything waits for a database lock before the visitor is told the site is
    #: busy; well inside gunicorn's worker timeout.
    DATABASE_LOCK_TIMEOUT = _env_float("DATABASE_LOCK_TIMEOUT", 5.0)

    #: Absolute address of the site, used for links in emails sent outside a request.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    #: How long "keep me signed in" lasts, and a sign-in without it (the server ends both then).
    REMEMBER_COOKIE_DURATION = timedelta(days=_env_int("REMEMBER_DAYS", 30))
    SIGN_IN_HOURS = _env_int("SIGN_IN_HOURS", 12)

    WTF_CSRF_TIME_LIMIT = 8 * 3600

    #: Largest handout file accepted, in bytes.
    HANDOUT_MAX_BYTES = _env_int("HANDOUT_MAX_BYTES", 20 * 1024 * 1024)
    #: Largest instructor photo accepted, in bytes.
    PHOTO_MAX_BYTES = _env_int("PHOTO_MAX_BYTES", 5 * 1024 * 1024)
    #: Largest scan of an instructor's certificate or policy accepted, in bytes.
    CREDENTIAL_MAX_BYTES = _env_int("CREDENTIAL_MAX_BYTES", 10 * 1024 * 1024)
    #: Where uploaded files (handouts, photos) are kept: outside static/, never served as they are.
    UPLOAD_STORAGE_PATH = os.environ.get("UPLOAD_STORAGE_PATH", str(INSTANCE_DIR / "uploads"))
    #: A little above the handout limit, so a form with a too-large file still gets its own message.
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", HANDOUT_MAX_BYTES + 5 * 1024 * 1024)

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    #: If Redis stops answering, limits are counted in each worker's memory until it is back,
    #: and a failure to count never fails a request.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    #: Sign-in attempts allowed per client address.
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    #: Wrong passwords allowed for any one email address, from wherever they come.
    ACCOUNT_LOGIN_RATE_LIMIT = os.environ.get("ACCOUNT_LOGIN_RATE_LIMIT", "10 per 15 minutes;30 per day")
    #: Sign-ups, and password-reset requests for any one address, allowed per client address.
    SIGN_UP_RATE_LIMIT = os.environ.get("SIGN_UP_RATE_LIMIT", "5 per hour")
    RESET_RATE_LIMIT = os.environ.get("RESET_RATE_LIMIT", "3 per hour")
    #: Fetches of any one calendar feed (a calendar app looks a few times an hour at most).
    CALENDAR_FEED_RATE_LIMIT = os.environ.get("CALENDAR_FEED_RATE_LIMIT", "60 per hour")
    #: Calendar-feed addresses that match no feed, per client address: enough for an app still
    #: polling a feed its owner turned off, far too few to guess one.
    CALENDAR_FEED_MISS_RATE_LIMIT = os.environ.get("CALENDAR_FEED_MISS_RATE_LIMIT", "30 per hour")
    #: How long a calendar app may keep a feed before asking again, so changes show soon.
    CALENDAR_FEED_CACHE_SECONDS = _env_int("CALENDAR_FEED_CACHE_SECONDS", 600)
    #: Check-in answers (from the morning reminder's links, no sign-in needed) allowed per client address.
    CHECK_IN_RATE_LIMIT = os.environ.get("CHECK_IN_RATE_LIMIT", "20 per minute;100 per hour")
    #: Messages to a group of families that one instructor or organiser may send.
    GROUP_MESSAGE_RATE_LIMIT = os.environ.get("GROUP_MESSAGE_RATE_LIMIT", "5 per hour;20 per day")

    #: Argon2id cost; testing lowers it so the suite stays fast.
    PASSWORD_HASH_TIME_COST = _env_int("PASSWORD_HASH_TIME_COST", 3)
    PASSWORD_HASH_MEMORY_COST = _env_int("PASSWORD_HASH_MEMORY_COST", 65536)
    PASSWORD_RESET_MAX_AGE = _env_int("PASSWORD_RESET_MAX_AGE", 3600)
    INVITATION_MAX_AGE = _env_int("INVITATION_MAX_AGE", 7 * 24 * 3600)
    EMAIL_CONFIRMATION_MAX_AGE = _env_int("EMAIL_CONFIRMATION_MAX_AGE", 3 * 24 * 3600)

    #: No MAIL_SERVER means "print mail to the log" (development).
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_TIMEOUT = _env_int("MAIL_TIMEOUT", 30)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Instructor Portal <no-reply@example.org>")
    OUTBOX_MAX_ATTEMPTS = _env_int("OUTBOX_MAX_ATTEMPTS", 8)

    #: Number of reverse proxies in front of the app whose X-Forwarded-* headers to trust
    #: (so rate limits see the real client address); 0 trusts none.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)

    #: Card payments are offered only when a secret key is set.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
    #: Where the Stripe API lives; only tests point it elsewhere.
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
    #: Comma-separated webhook signing secrets; more than one while rotating.
    STRIPE_WEBHOOK_SECRETS = [s.strip() for s in os.environ.get("STRIPE_WEBHOOK_SECRETS", "").split(",") if s.strip()]
    #: How far back reconcile-payments looks for events that were never delivered.
    STRIPE_RECONCILE_DAYS = _env_int("STRIPE_RECONCILE_DAYS", 3)
    #: Seconds to wait for Stripe to answer, and how many times to retry; together they stay
    #: well inside gunicorn's 30-second worker timeout, so a hanging Stripe gets a clear page.
    STRIPE_TIMEOUT = _env_float("STRIPE_TIMEOUT", 8.0)
    STRIPE_MAX_RETRIES = _env_int("STRIPE_MAX_RETRIES", 1)

    #: Where the background jobs' queue lives: a SQLite file for one machine, redis://host:6379/0 for several.
    TASK_QUEUE_URL = os.environ.get("TASK_QUEUE_URL", f"sqlite:///{INSTANCE_DIR / 'tasks.sqlite'}")
    #: How often, in minutes, the worker's scheduler runs each job. New email also goes out
    #: within seconds of being queued; the outbox sweep catches anything that was missed.
    OUTBOX_SWEEP_MINUTES = _env_int("OUTBOX_SWEEP_MINUTES", 1)
    HOLD_SWEEP_MINUTES = _env_int("HOLD_SWEEP_MINUTES", 1)
    WAITLIST_SWEEP_MINUTES = _env_int("WAITLIST_SWEEP_MINUTES", 1)
    MINIMUM_CHECK_MINUTES = _env_int("MINIMUM_CHECK_MINUTES", 15)
    REMINDER_SWEEP_MINUTES = _env_int("REMINDER_SWEEP_MINUTES", 5)
    CREDENTIAL_CHECK_MINUTES = _env_int("CREDENTIAL_CHECK_MINUTES", 60)
    EVALUATION_SWEEP_MINUTES = _env_int("EVALUATION_SWEEP_MINUTES", 15)
    RECONCILE_MINUTES = _env_int("RECONCILE_MINUTES", 10)
    REFUND_RETRY_MINUTES = _env_int("REFUND_RETRY_MINUTES", 5)
    PURGE_MINUTES = _env_int("PURGE_MINUTES", 24 * 60)
    QUEUE_HEARTBEAT_MINUTES = _env_int("QUEUE_HEARTBEAT_MINUTES", 1)

    CATALOGUE_PAGE_SIZE = _env_int("CATALOGUE_PAGE_SIZE", 12)
    #: Public pages are cached for signed-out visitors (per worker unless CACHE_TYPE is
    #: RedisCache with CACHE_REDIS_URL); a page lives at most this long even if nothing changes.
    CACHE_TYPE = os.environ.get("CACHE_TYPE", "SimpleCache")
    CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", "")
    CACHE_THRESHOLD = _env_int("CACHE_THRESHOLD", 500)
    CATALOGUE_CACHE_SECONDS = _env_int("CATALOGUE_CACHE_SECONDS", 300)
    #: Lines per page of the organiser's list of payments and refunds.
    PAYMENTS_PAGE_SIZE = _env_int("PAYMENTS_PAGE_SIZE", 50)


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_SQLITE_URL", "sqlite://")
    BASE_URL = "http://portal.test"
    PASSWORD_HASH_TIME_COST = 1
    PASSWORD_HASH_MEMORY_COST = 64
    MAIL_SERVER = ""
    RATELIMIT_STORAGE_URI = "memory://"
    #: Jobs wait in memory until a test runs them.
    TASK_QUEUE_URL = "memory"
    #: Tests that hold a lock on purpose need not wait the production five seconds.
    DATABASE_LOCK_TIMEOUT = 2.0
    STRIPE_TIMEOUT = 3.0
    STRIPE_SECRET_KEY = ""
    STRIPE_WEBHOOK_SECRETS: list[str] = []


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    #: The __Host- prefix: browsers take these cookies only over HTTPS, for this host and path /, never a parent domain.
    SESSION_COOKIE_NAME = "__Host-session"
    REMEMBER_COOKIE_NAME = "__Host-remember_token"
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig, "production": ProductionConfig}


def config_for(name: str | None = None) -> type[Config]:
    """Pick the configuration class named by ``name`` or the ``PORTAL_ENV`` variable."""
    name = name or os.environ.get("PORTAL_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown PORTAL_ENV {name!r}; use one of {', '.join(CONFIGS)}") from None
