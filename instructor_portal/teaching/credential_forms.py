"""The credential form, worded for each kind; the service decides which fields a kind needs."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Length, Optional

from instructor_portal.forms import LocalDateField, strip_whitespace
from instructor_portal.teaching.credentials import PROVIDER_MAX, REFERENCE_MAX, REQUIREMENTS
from instructor_portal.teaching.models import Credential, CredentialKind


class CredentialForm(FlaskForm):
    issued_on = LocalDateField("Issued", [Optional()])
    expires_on = LocalDateField("Expires", [Optional()])
    reference = StringField(
        "Number",
        validators=[Length(max=REFERENCE_MAX, message=f"Keep the number to {REFERENCE_MAX} characters or fewer.")],
        filters=[strip_whitespace],
    )
    provider = StringField(
        "Provider",
        validators=[Length(max=PROVIDER_MAX, message=f"Keep this to {PROVIDER_MAX} characters or fewer.")],
        filters=[strip_whitespace],
    )
    document = FileField("A copy (optional)", description="A PDF, or a photo or scan: JPEG, PNG or WebP.")

    def __init__(self, *args, kind: CredentialKind, **kwargs):
        super().__init__(*args, prefix=kind.value, **kwargs)
        self.kind = kind
        words = REQUIREMENTS[kind]
        for field, label in (
            (self.issued_on, words.issued_label),
            (self.expires_on, words.expires_label),
            (self.reference, words.reference_label),
            (self.provider, words.provider_label),
        ):
            field.label.text = label if field.short_name in words.required else f"{label} (optional)"

    @staticmethod
    def data_for(credential: Credential | None) -> dict:
        if credential is None:
            return {}
        return {name: getattr(credential, name) for name in ("issued_on", "expires_on", "reference", "provider")}

    def credential_fields(self) -> dict:
        """The typed values, and the chosen file's stream (None when no file was chosen), as the service takes them."""
        chosen = self.document.data
        return {
            "issued_on": self.issued_on.data,
            "expires_on": self.expires_on.data,
            "reference": self.reference.data or "",
            "provider": self.provider.data or "",
            "document": chosen.stream if chosen and chosen.filename else None,
        }
