"""Forms of the auth blueprint."""
import zoneinfo
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from helpdesk import i18n
from helpdesk.validation import InvalidInput, clean_language_tag


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


MAX_LANGUAGES = 10


class PreferencesForm(FlaskForm):
    """An agent's own console language (one of the catalogs, :data:`helpdesk.i18n.UI_LOCALES`),
    time zone (any IANA zone ``zoneinfo`` knows) and the languages they speak (BCP 47
    tags, best first: the first is what buyers' messages are translated into)."""

    locale = SelectField(_l("Console language"))
    time_zone = SelectField(_l("Time zone"))
    languages = StringField(_l("Languages you speak (BCP 47 tags such as en, pt-BR, zh-Hant; best first)"),
                            validators=[Length(max=400)])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = [(code, name) for code, _tag, name, _dir in i18n.language_menu()]
        self.time_zone.choices = time_zone_choices()

    def validate_languages(self, field) -> None:
        """Each tag known to CLDR, at most :data:`MAX_LANGUAGES`, duplicates dropped; sets
        ``field.tags``."""
        tags = []
        for word in (field.data or "").replace(",", " ").split():
            try:
                tags.append(clean_language_tag(word))
            except InvalidInput:
                raise ValidationError(_l("%(tag)s is not a language tag such as en, pt-BR or zh-Hant.", tag=word[:40]))
        tags = list(dict.fromkeys(tags))
        if len(tags) > MAX_LANGUAGES:
            raise ValidationError(_l("At most %(n)d languages.", n=MAX_LANGUAGES))
        field.tags = tags


@lru_cache(maxsize=1)
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone ``zoneinfo`` knows, UTC first, then by name."""
    zones = sorted(zoneinfo.available_timezones() - {"UTC"})
    return [("UTC", "UTC")] + [(zone, zone.replace("_", " ")) for zone in zones]
