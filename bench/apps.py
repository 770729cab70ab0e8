"""Reference apps the catalogue is measured against, served by gunicorn in bench/run_catalogue.py.

- ``bare``: a Flask route returning a short string (the ceiling).
- ``plain_list``: 50 rows read with SQLAlchemy and rendered with Jinja, the everyday baseline.
"""

import os

from flask import Flask, render_template_string
from sqlalchemy import Integer, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

LIST_PAGE = """<!doctype html><title>Rows</title><h1>Rows</h1>
<table>{% for row in rows %}<tr><td>{{ row.id }}</td><td>{{ row.name }}</td><td>{{ row.town }}</td></tr>{% endfor %}</table>"""


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "bench_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    town: Mapped[str] = mapped_column(String(80))


def bare() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index():
        return "Hello"

    return app


def plain_list() -> Flask:
    engine = create_engine(os.environ["BENCH_LIST_DATABASE_URL"])
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        if session.scalar(select(Row.id).limit(1)) is None:
            session.add_all(Row(name=f"Family course {n}", town="Bristol") for n in range(50))
    app = Flask(__name__)

    @app.get("/")
    def index():
        with Session(engine) as session:
            rows = session.scalars(select(Row).order_by(Row.id).limit(50)).all()
            return render_template_string(LIST_PAGE, rows=rows)

    return app
