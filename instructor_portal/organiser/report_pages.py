"""The organiser's reports pages on the organiser blueprint: charts and tables, their CSV files, and the funder's PDF."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_login import current_user

from instructor_portal.clock import utcnow
from instructor_portal.forms import form_status, show_domain_error
from instructor_portal.organisation import get_organisation, local_today
from instructor_portal.organiser import funder_report, report_scope, reports, services
from instructor_portal.organiser.report_charts import chart_svg
from instructor_portal.organiser.report_forms import FunderReportForm, ReportFilterForm
from instructor_portal.organiser.report_tables import table_csv
from instructor_portal.organiser.routes import bp
from instructor_portal.permissions import organiser_required
from instructor_portal.teaching.evaluations import evaluation_results

#: The most rows a table of each course or session shows on the page; longer ones are CSV downloads only.
DETAIL_ROWS = 150


def _filter_form() -> tuple[ReportFilterForm, report_scope.ReportFilters]:
    """Read the filters sent; refused ones get their messages and the report falls back to its defaults."""
    form = ReportFilterForm(
        request.args, instructors=services.list_staff(), venues=services.list_venues(), today=local_today()
    )
    if form.validate():
        try:
            return form, form.filters()
        except report_scope.ReportError as error:
            show_domain_error(form, error)
    return form, form.default_filters()


@bp.get("/reports")
@organiser_required
def reports_page():
    """Show how the courses starting in a range did: fill, attendance, money, referrals, waiting lists, make-ups, families, and what parents said."""
    form, filters = _filter_form()
    sections = reports.build_report(filters)
    currency = get_organisation().currency
    courses = report_scope.Scope(filters, now=utcnow()).courses
    return render_template(
        "organiser/reports.html",
        form=form,
        filters=filters,
        sections=sections,
        charts={section.key: chart_svg(section, currency) for section in sections},
        query=form.query_args() if not form.errors else {},
        detail_rows=DETAIL_ROWS,
        results=evaluation_results(course_ids=list(courses)),
    ), (422 if form.errors else 200)


@bp.get("/reports/<name>.csv")
@organiser_required
def report_csv(name: str):
    """Download one report table as CSV, for the same filters as the page."""
    if name not in reports.FILES:
        abort(404)
    form, filters = _filter_form()
    if form.errors:
        return reports_page()
    return Response(
        table_csv(reports.report_file(name, filters)),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}-{filters.date_from}-{filters.date_to}.csv"'},
    )


@bp.route("/reports/funder", methods=["GET", "POST"])
@organiser_required
def funder_report_page():
    """Download a referrer's report for a period as a PDF, with children's names only if ticked; every download audited."""
    form = FunderReportForm(referrers=funder_report.list_referrers())
    if form.validate_on_submit():
        try:
            pdf = funder_report.download_funder_report(
                form.referrer.data,
                form.date_from.data,
                form.date_to.data,
                by=current_user,
                names=form.include_names.data,
            )
        except report_scope.ReportError as error:
            show_domain_error(form, error)
        else:
            return Response(
                pdf,
                mimetype="application/pdf",
                headers={"Content-Disposition": 'attachment; filename="funder-report.pdf"'},
            )
    return render_template("organiser/funder_report.html", form=form), form_status()
