"""Handout pages: a course's handouts, the organisers' library, and the access-checked download.

The blueprint spans three areas (``/teach``, ``/organiser`` and ``/handouts``), so it is
registered without a prefix and each route carries its full path.
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from instructor_portal.catalogue.models import Course
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.forms import form_status, show_domain_error
from instructor_portal.handouts import services
from instructor_portal.handouts.forms import AttachForm, DetailsForm, EditForm, FileForm, LibraryUploadForm, UploadForm
from instructor_portal.handouts.models import Handout
from instructor_portal.permissions import get_managed, instructor_required, organiser_required, refuse_access
from instructor_portal.uploads import format_size, send_private_file

bp = Blueprint("handouts", __name__)
bp.add_app_template_filter(format_size, "file_size")


def _managed_handout(handout_id: int) -> Handout:
    handout = services.get_handout(handout_id)
    if handout is None:
        abort(404)
    if not services.can_manage_handout(current_user, handout):
        refuse_access(handout)
    return handout


def _listing(handout: Handout) -> str:
    """The page that lists the handout: the library, or its course's handouts."""
    if handout.is_library_item:
        return url_for("handouts.library")
    return url_for("handouts.manage", course_id=handout.course_id)


def _back_to(handout: Handout, message: str):
    flash(message, "success")
    return redirect(_listing(handout))


def _render_manage(course: Course, *, upload_form: UploadForm | None = None, attach_form: AttachForm | None = None):
    library = services.library_handouts()
    return render_template(
        "handouts/manage.html",
        course=course,
        handouts=services.course_handouts(course),
        library=library,
        upload_form=upload_form or UploadForm(course=course, formdata=None),
        attach_form=attach_form or AttachForm(course=course, library=library, prefix="attach", formdata=None),
        max_size=services.max_size(),
    ), form_status()


def _upload(course: Course | None, form, done: str, **release):
    """Upload the form's file to the course (None: the library); the redirect on success, else None with the error on the form."""
    try:
        handout = services.upload_handout(
            course,
            actor=current_user,
            title=form.title.data,
            description=form.description.data,
            filename=form.file.data.filename,
            stream=form.file.data.stream,
            **release,
        )
    except DomainError as error:
        show_domain_error(form, error)
        return None
    return _back_to(handout, f"{handout.title} {done}.")


@bp.route("/teach/courses/<int:course_id>/handouts", methods=["GET", "POST"])
@instructor_required
def manage(course_id: int):
    """List a course's handouts with their release rules and downloads, and upload a new one."""
    course = get_managed(Course, course_id)
    form = UploadForm(course=course)
    if form.validate_on_submit():
        uploaded = _upload(course, form, "uploaded", **form.release_fields())
        if uploaded:
            return uploaded
    return _render_manage(course, upload_form=form)


@bp.post("/teach/courses/<int:course_id>/handouts/attach")
@instructor_required
def attach(course_id: int):
    """Put a standard handout from the organisers' library on the course."""
    course = get_managed(Course, course_id)
    form = AttachForm(course=course, library=services.library_handouts(), prefix="attach")
    if form.validate_on_submit():
        try:
            handout = services.attach_library_handout(
                course, form.library_handout.data, actor=current_user, **form.release_fields()
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            return _back_to(handout, f"{handout.title} added from the library.")
    return _render_manage(course, attach_form=form)


def _edit_form(handout: Handout, **kwargs):
    data = {"title": handout.title, "description": handout.description}
    if handout.is_library_item:
        return DetailsForm(data=data, **kwargs)
    return EditForm(course=handout.course, data=data | EditForm.data_for(handout), **kwargs)


def _render_edit(handout: Handout, edit_form, replace_form: FileForm):
    return render_template(
        "handouts/edit.html",
        handout=handout,
        edit_form=edit_form,
        replace_form=replace_form,
        max_size=services.max_size(),
    ), form_status()


@bp.route("/teach/handouts/<int:handout_id>/edit", methods=["GET", "POST"])
@instructor_required
def edit(handout_id: int):
    """Change a handout's title, description and release rule."""
    handout = _managed_handout(handout_id)
    form = _edit_form(handout)
    if form.validate_on_submit():
        release = {} if handout.is_library_item else form.release_fields()
        try:
            services.update_handout(
                handout, actor=current_user, title=form.title.data, description=form.description.data, **release
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            return _back_to(handout, f"{handout.title} saved.")
    return _render_edit(handout, form, FileForm(prefix="replace", formdata=None))


@bp.post("/teach/handouts/<int:handout_id>/replace")
@instructor_required
def replace(handout_id: int):
    """Upload a new version of a handout's file; families' links keep working and get the new version."""
    handout = _managed_handout(handout_id)
    form = FileForm(prefix="replace")
    if form.validate_on_submit():
        try:
            services.replace_handout(
                handout, actor=current_user, filename=form.file.data.filename, stream=form.file.data.stream
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            return _back_to(handout, f"New version of {handout.title} uploaded.")
    return _render_edit(handout, _edit_form(handout, formdata=None), form)


@bp.post("/teach/handouts/<int:handout_id>/retire")
@instructor_required
def retire(handout_id: int):
    """Withdraw a handout from families (or from the library)."""
    handout = _managed_handout(handout_id)
    try:
        services.retire_handout(handout, actor=current_user)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(_listing(handout))
    return _back_to(handout, f"{handout.title} retired. Families no longer see it.")


@bp.route("/organiser/handouts", methods=["GET", "POST"])
@organiser_required
def library():
    """List the standard handouts any instructor can attach to a course, and upload a new one."""
    form = LibraryUploadForm()
    if form.validate_on_submit():
        uploaded = _upload(None, form, "added to the library")
        if uploaded:
            return uploaded
    return render_template(
        "handouts/library.html",
        handouts=services.library_handouts(include_retired=True),
        form=form,
        max_size=services.max_size(),
    ), form_status()


@bp.get("/handouts/<int:handout_id>")
def download(handout_id: int):
    """Serve a handout's current file to those allowed it; everyone else, signed in or not, gets 404."""
    download = services.open_download(current_user, handout_id, now=utcnow())
    if download is None:
        abort(404)
    return send_private_file(download.stream, content_type=download.content_type, name=download.name)
