"""The instructor's credentials page (/teach/credentials) and the access-checked copy of each credential."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from instructor_portal.db import get_or_404
from instructor_portal.errors import DomainError
from instructor_portal.forms import form_status, show_domain_error
from instructor_portal.organisation import local_today
from instructor_portal.permissions import instructor_required, refuse_access
from instructor_portal.teaching import credentials
from instructor_portal.teaching.credential_forms import CredentialForm
from instructor_portal.teaching.models import Credential, CredentialKind
from instructor_portal.teaching.routes import bp
from instructor_portal.uploads import send_private_file


def _render(refused: CredentialForm | None = None):
    recorded = credentials.instructor_credentials(current_user)
    forms = {
        kind: refused
        if refused is not None and refused.kind == kind
        else CredentialForm(kind=kind, formdata=None, data=CredentialForm.data_for(credential))
        for kind, credential in recorded.items()
    }
    today = local_today()
    return render_template(
        "teaching/credentials.html",
        recorded=recorded,
        forms=forms,
        statuses={kind: credentials.status_of(credential, today=today) for kind, credential in recorded.items()},
        requirements=credentials.REQUIREMENTS,
    ), form_status()


@bp.get("/credentials")
@instructor_required
def credentials_page():
    """Show your CIMI certificate, insurance, DBS check and first aid, and what is lapsing."""
    return _render()


@bp.post("/credentials/<kind>")
@instructor_required
def record_credential(kind: str):
    """Record your current credential of one kind, with a copy of it if you choose one."""
    try:
        kind = CredentialKind(kind)
    except ValueError:
        abort(404)
    form = CredentialForm(kind=kind)
    if form.validate_on_submit():
        try:
            credentials.record_credential(current_user, kind, actor=current_user, **form.credential_fields())
        except DomainError as error:  # the service's refusals, and an upload clashing with another
            show_domain_error(form, error)
        else:
            flash(f"{kind.label} saved.", "success")
            return redirect(url_for("teaching.credentials_page"))
    return _render(form)


def _viewable(credential_id: int) -> Credential:
    credential = get_or_404(Credential, credential_id)
    if not credentials.can_view(current_user, credential):
        refuse_access(credential)
    return credential


@bp.get("/credentials/<int:credential_id>/document")
@instructor_required
def credential_document(credential_id: int):
    """Serve the copy of a credential to its instructor and to organisers; anyone else gets 404."""
    document = credentials.open_document(_viewable(credential_id))
    if document is None:
        abort(404)
    return send_private_file(document.stream, content_type=document.content_type, name=document.name)


@bp.post("/credentials/<int:credential_id>/document/remove")
@instructor_required
def remove_credential_document(credential_id: int):
    """Take the copy off one of your credentials."""
    credential = _viewable(credential_id)
    credentials.remove_document(credential, actor=current_user)
    flash(f"The copy of your {credential.kind.label.lower()} was removed.", "success")
    return redirect(url_for("teaching.credentials_page"))
