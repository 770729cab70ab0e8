"""gunicorn's settings in production: ``gunicorn -c gunicorn.conf.py 'instructor_portal:create_app()'``.

Each can be set from the environment; the README's "Running in production" says how the
pieces fit together.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
#: Two threads a worker, so a family waiting on Stripe does not hold a whole worker.
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
#: Longer than anything a request may wait for: Stripe's timeout and retry, and a database lock (config.py).
timeout = 30
graceful_timeout = 30
#: Only the reverse proxy on this machine may say which address a request came from (with TRUSTED_PROXIES=1).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
