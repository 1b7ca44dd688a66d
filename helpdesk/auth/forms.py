"""Forms of the auth blueprint."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, Length, ValidationError


class LoginForm(FlaskForm):
    """E-mail and password of an agent."""

    email = EmailField(
        _l("E-mail"),
        filters=[lambda value: value.strip() if value else value],  # pasted addresses carry spaces
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])

    def validate_password(self, field) -> None:
        """Control characters never belong to a password; scrypt would ignore a trailing NUL."""
        if not field.data.isprintable():
            raise ValidationError(_l("Passwords cannot contain control characters."))
    remember = BooleanField(_l("Keep me signed in"))
    submit = SubmitField(_l("Sign in"))
