"""The registers page both attendance's and the organiser's views serve: the filters, the rows they match, the download.

Instructors reach it under /teach for their own courses, organisers under /organiser for
every course; the page and its URLs are the same but for the layout. The views pass in the
instructors and venues the filters offer, as those lists come from the organiser's services.
"""

from __future__ import annotations

from flask import Response, render_template, request, stream_with_context
from flask_login import current_user

from instructor_portal.accounts.models import User
from instructor_portal.attendance.export_filters import RegisterExportError, register_courses
from instructor_portal.attendance.exports import export_registers
from instructor_portal.attendance.forms import RegisterExportForm, RegisterFilterForm
from instructor_portal.attendance.register_files import FORMATS
from instructor_portal.attendance.register_rows import count_register_rows
from instructor_portal.catalogue.models import Venue
from instructor_portal.forms import show_domain_error

#: The layout each blueprint's registers page sits in.
REGISTERS_LAYOUTS = {"attendance": "teaching/_teaching_layout.html", "organiser": "organiser/_organiser_layout.html"}
NO_ROWS = "No register rows match these filters; the file will contain only the header."


def _filter_choices(instructors: list[User] | None, venues: list[Venue]) -> dict:
    """Gather what the register filters offer: the courses the signed-in user may export, and the lists given."""
    return {"courses": register_courses(current_user), "instructors": instructors, "venues": venues}


def _registers_page(form: RegisterFilterForm, export_form: RegisterExportForm):
    """Render the filters and, when they are sound, how many rows and sessions they match; 422 when anything was refused."""
    count = None if form.errors else count_register_rows(form.filters(), by=current_user)
    refused = bool(form.errors or export_form.errors or export_form.form_errors)
    return render_template(
        "attendance/registers.html",
        layout=REGISTERS_LAYOUTS[request.blueprint],
        form=form,
        export_form=export_form,
        count=count,
        query=form.query_args(),
        formats=FORMATS,
        no_rows=NO_ROWS,
    ), 422 if refused else 200


def show_registers(*, instructors: list[User] | None, venues: list[Venue]):
    """Show the register filters and how many rows and sessions match; ``instructors`` is None for an instructor."""
    choices = _filter_choices(instructors, venues)
    form = RegisterFilterForm(request.args, **choices)
    form.validate()
    return _registers_page(form, RegisterExportForm(formdata=None, **choices))


def download_registers(fmt: str, *, instructors: list[User] | None, venues: list[Venue]):
    """Audit-log and send the filtered registers as a file; refused filters show the page again with their errors."""
    form = RegisterExportForm(**_filter_choices(instructors, venues))
    if form.validate():
        try:
            export = export_registers(form.filters(), fmt, by=current_user, care_notes=form.include_care_notes.data)
        except RegisterExportError as error:
            show_domain_error(form, error)
        else:
            return Response(
                stream_with_context(export.chunks),
                mimetype=export.mimetype,
                headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
            )
    return _registers_page(form, form)
