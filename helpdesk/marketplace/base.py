"""The connector interface, its registry, and the HTTP plumbing connectors share.

A connector reads one marketplace's order API and yields :class:`~.records.Page` objects
of normalised records; it never touches the database (that is :mod:`.sync`). Connectors
register themselves by ``kind`` (``shopify``, ``woocommerce``, ...) like CTFd plugins.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import ClassVar

import requests

from helpdesk.marketplace.records import OrderRecord, Page, RecordError, RefundRecord, RefundRequest
from helpdesk.money import parse_amount, quantise

log = logging.getLogger(__name__)

USER_AGENT = "cross-border-helpdesk/0.1 (+order sync)"


class MarketplaceError(Exception):
    """A marketplace could not be read; the message says what to do about it."""


class UnknownMarketplace(MarketplaceError):
    """No connector is registered for this kind."""


class MissingCredentials(MarketplaceError):
    """The store's ``credentials_ref`` names no secret that is set."""


class MarketplaceAuthError(MarketplaceError):
    """The marketplace refused the credentials (HTTP 401/403)."""


class RateLimited(MarketplaceError):
    """Still answered 429 after the allowed number of waits."""


class MalformedPayload(MarketplaceError):
    """A response or webhook body that is not the marketplace's documented format."""


class RefundRefused(MarketplaceError):
    """The marketplace answered a refund with an error (HTTP 4xx): nothing was refunded.
    ``status`` is the HTTP status, ``str(exc)`` the marketplace's own message."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class OutcomeUnknown(MarketplaceError):
    """A write was sent but no answer came back (read timeout, HTTP 5xx): the marketplace
    may or may not have done it. Re-read the order before trying again."""


_REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make ``cls`` the connector for ``cls.kind``."""
    _REGISTRY[cls.kind] = cls
    return cls


def connector_class(kind: str) -> type[Connector]:
    """The connector class registered for ``kind``.

    Raises:
        UnknownMarketplace: nothing registered under that name.
    """
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise UnknownMarketplace(f"No connector for marketplace {kind!r}; known: {known}.") from None


def registered_kinds() -> list[str]:
    """Names of the registered connectors, sorted."""
    return sorted(_REGISTRY)


def resolve_secret(ref: str | None, environ: Mapping[str, str] | None = None) -> str:
    """Read the secret a ``credentials_ref`` points at. Only ``env:NAME`` is supported,
    so secrets live in the process environment (or a secret manager feeding it), never
    in the database.

    Raises:
        MissingCredentials: no reference, an unsupported scheme, or the variable unset.
    """
    env = os.environ if environ is None else environ
    if not ref:
        raise MissingCredentials("This store has no credentials reference; set one like env:SHOP_TOKEN.")
    scheme, _, name = ref.partition(":")
    if scheme != "env" or not name:
        raise MissingCredentials(f"Credentials reference {ref!r} must look like env:VARIABLE_NAME.")
    value = env.get(name, "")
    if not value:
        raise MissingCredentials(f"Environment variable {name} (from credentials reference {ref!r}) is not set.")
    return value


def verify_hmac_base64(secret: str, raw_body: bytes, signature: str | None) -> bool:
    """True when ``signature`` is base64(HMAC-SHA256(secret, raw_body)).

    Both Shopify (``X-Shopify-Hmac-Sha256``) and WooCommerce (``X-WC-Webhook-Signature``)
    sign the raw request body this way; the comparison is constant-time. The body must be
    the bytes received, never a re-serialised JSON.
    """
    if not secret or not signature:
        return False
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    given = signature.strip().encode("utf-8", "surrogateescape")  # any header text compares, none raises
    return hmac.compare_digest(base64.b64encode(digest), given)


def parse_instant(value: str | None, *, assume_utc: bool = False) -> datetime | None:
    """Parse an ISO 8601 timestamp to an aware UTC datetime (``None`` stays ``None``).

    ``assume_utc`` reads an offset-less value as UTC (WooCommerce's ``*_gmt`` fields).

    Raises:
        ValueError: unparseable, or offset-less without ``assume_utc``.
    """
    if value in (None, ""):
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        if not assume_utc:
            raise ValueError(f"timestamp {value!r} has no UTC offset")
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


class Connector:
    """Base of all connectors. Subclasses set ``kind`` and implement the methods below.

    Args:
        base_url: the store's API root (``https://shop.myshopify.com``).
        secret: the API credential resolved from the store's ``credentials_ref``.
        session: a ``requests.Session`` to reuse (tests and benchmarks pass one).
        sleep: called with seconds to wait on ``Retry-After``; tests inject a recorder.
        page_size: records asked for per page.
    """

    kind: ClassVar[str]
    signature_header: ClassVar[str]
    topic_header: ClassVar[str]
    max_retries = 5  # waits on 429 and 5xx answers
    max_network_retries = 2  # an unreachable host fails after 1 + 2 seconds of waiting
    timeout = (10, 60)

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int = 100,
        write_timeout: tuple[float, float] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self.sleep = sleep
        self.page_size = page_size
        self.write_timeout = write_timeout or (10, 60)

    def iter_pages(self, *, since: datetime | None, cursor: str | None) -> Iterator[Page]:
        """Yield pages of orders updated at or after ``since`` (all when ``None``), starting
        at ``cursor`` when resuming; each page carries the cursor of the next one."""
        raise NotImplementedError

    def fetch_order(self, external_id: str) -> OrderRecord:
        """Read one order by its marketplace id (used when a webhook names an unknown order)."""
        raise NotImplementedError

    def create_refund(self, order_external_id: str, request: RefundRequest) -> RefundRecord:
        """Refund money (and mark lines refunded) on the marketplace; returns the refund
        as the marketplace recorded it, ready for :func:`~.sync.apply_refund`.

        Raises:
            RefundRefused: the marketplace said no (its message).
            OutcomeUnknown: no answer; the refund may have happened.
            MarketplaceError: not reachable (nothing was sent), credentials refused.
        """
        raise NotImplementedError

    def parse_webhook(self, topic: str, payload: dict) -> tuple[str, OrderRecord | RefundRecord]:
        """Turn a verified webhook body into ``(order_external_id, record)``.

        Raises:
            MalformedPayload: a topic this connector does not take, or a body it cannot read.
        """
        raise NotImplementedError

    @classmethod
    def verify_webhook(cls, secret: str, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        """True when the webhook's signature header matches ``raw_body`` under ``secret``."""
        return verify_hmac_base64(secret, raw_body, headers.get(cls.signature_header))

    def get(self, url: str, params: Mapping[str, str] | None = None, **kwargs) -> requests.Response:
        """GET with the marketplace's rate limit honoured.

        On 429 waits ``Retry-After`` seconds (a float, as Shopify sends "2.0"; 2 s when
        absent) up to :attr:`max_retries` times; retries connection errors and 5xx with
        exponential back-off.

        Raises:
            MarketplaceAuthError: 401/403.
            RateLimited: still 429 after the retries.
            MarketplaceError: other 4xx/5xx or a network failure, with the status and URL.
        """
        for attempt in range(self.max_retries + 1):
            try:
                response = self.session.get(url, params=params, timeout=self.timeout, **kwargs)
            except requests.RequestException as exc:
                if attempt >= self.max_network_retries:
                    raise MarketplaceError(f"Cannot reach {self.kind} at {url}: {exc}") from exc
                self.sleep(2**attempt)
                continue
            if response.status_code == 429:
                if attempt == self.max_retries:
                    raise RateLimited(f"{self.kind} kept answering 429 Too Many Requests for {url}.")
                wait = _retry_after_seconds(response.headers.get("Retry-After"))
                log.info("rate limited", extra={"marketplace": self.kind, "retry_after_s": wait})
                self.sleep(wait)
                continue
            if response.status_code in (401, 403):
                raise MarketplaceAuthError(
                    f"{self.kind} refused the credentials (HTTP {response.status_code}) for {url}; "
                    "check the store's access token."
                )
            if response.status_code >= 500 and attempt < self.max_retries:
                self.sleep(min(2**attempt, 30))
                continue
            if response.status_code >= 400:
                raise MarketplaceError(
                    f"{self.kind} answered HTTP {response.status_code} for {url}: {response.text[:300]}"
                )
            return response
        raise AssertionError("unreachable")

    def is_refusal(self, response: requests.Response) -> bool:
        """True when an HTTP 5xx answer to a write is nevertheless a definite "no" (the
        marketplace names the error), so nothing happened. None by default."""
        return False

    def post_json(self, url: str, body: dict) -> object:
        """POST ``body`` as JSON once and decode the answer (fractions as ``Decimal``).

        A write is never repeated blindly: only HTTP 429 is retried (after
        ``Retry-After``), since the marketplace did not take the request; a read timeout
        or a 5xx raises :class:`OutcomeUnknown`. Timeouts are :attr:`write_timeout`.

        Raises:
            RefundRefused: other 4xx, with the marketplace's message.
            OutcomeUnknown, MarketplaceAuthError, RateLimited, MarketplaceError.
        """
        for attempt in range(self.max_retries + 1):
            try:
                response = self.session.post(url, json=body, timeout=self.write_timeout)
            except requests.ConnectTimeout as exc:  # never connected: nothing was sent
                raise MarketplaceError(f"Cannot reach {self.kind} at {url}: {exc}") from exc
            except requests.Timeout as exc:  # sent, no answer in time
                raise OutcomeUnknown(f"{self.kind} did not answer in time at {url}; it may have made the change.") from exc
            except requests.RequestException as exc:
                if isinstance(exc, requests.ConnectionError) and _sent(exc):
                    raise OutcomeUnknown(f"{self.kind} dropped the connection at {url}; it may have made the change.") from exc
                raise MarketplaceError(f"Cannot reach {self.kind} at {url}: {exc}") from exc
            if response.status_code == 429 and attempt < self.max_retries:
                self.sleep(_retry_after_seconds(response.headers.get("Retry-After")))
                continue
            if response.status_code == 429:
                raise RateLimited(f"{self.kind} kept answering 429 Too Many Requests for {url}.")
            if response.status_code in (401, 403):
                raise MarketplaceAuthError(
                    f"{self.kind} refused the credentials (HTTP {response.status_code}) for {url}; "
                    "check the store's access token."
                )
            if response.status_code >= 500 and not self.is_refusal(response):
                raise OutcomeUnknown(f"{self.kind} failed with HTTP {response.status_code} at {url}: "
                                     f"{error_text(response)}; it may have made the change.")
            if response.status_code >= 400:
                raise RefundRefused(error_text(response), response.status_code)
            try:
                return response.json(parse_float=Decimal)
            except ValueError as exc:
                raise MalformedPayload(f"{self.kind} sent a body that is not JSON from {url}.") from exc
        raise AssertionError("unreachable")

    def get_json(self, url: str, params: Mapping[str, str] | None = None) -> tuple[object, requests.Response]:
        """:meth:`get`, then decode JSON (numbers with a fraction become ``Decimal``).

        Raises:
            MalformedPayload: the body is not JSON.
        """
        response = self.get(url, params)
        try:
            return response.json(parse_float=Decimal), response
        except ValueError as exc:
            raise MalformedPayload(f"{self.kind} sent a body that is not JSON from {url}.") from exc


PARSE_ERRORS = (KeyError, TypeError, ValueError)


def describe_parse_error(exc: Exception) -> str:
    """A parse failure in words: a missing key is named as a missing field."""
    if isinstance(exc, KeyError):
        return f"required field {exc.args[0]!r} is missing"
    return str(exc)


def collect(page: Page, raw: object, parse: Callable[[dict], OrderRecord], label: str) -> None:
    """Parse one order object of a list response into ``page``: the record, or a
    :class:`RecordError` naming its id and the reason, so one bad order never loses the
    others. ``label`` names the marketplace in the reason ("Shopify order 123: ...")."""
    record_id = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") is not None else None
    try:
        if not isinstance(raw, dict):
            raise ValueError("order is not a JSON object")
        page.records.append(parse(raw))
    except PARSE_ERRORS as exc:
        page.errors.append(RecordError(record_id, f"{label} order {record_id}: {describe_parse_error(exc)}"))


def amount_or_zero(value, currency: str) -> Decimal:
    """:func:`~helpdesk.money.parse_amount`, reading a missing or empty amount as zero
    (marketplaces omit zero shipping and discounts)."""
    return parse_amount(value if value not in (None, "") else "0", currency)


def _sent(exc: requests.RequestException) -> bool:
    """True when the request left this machine before the connection failed (a reset or
    a dropped connection mid-answer), as opposed to a refused or unresolvable host."""
    text = str(exc)
    return not any(word in text for word in ("Connection refused", "Name or service not known",
                                              "Failed to resolve", "No route to host"))


def error_text(response: requests.Response) -> str:
    """The marketplace's own error message from an error answer: WooCommerce's
    ``{"code", "message"}``, Shopify's ``{"errors": "..."}`` or ``{"errors": {field:
    [messages]}}``; else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or f"HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"][:500]
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, str):
        return errors[:500]
    if isinstance(errors, dict):
        parts = []
        for key, value in errors.items():
            texts = value if isinstance(value, list) else [value]
            parts.append(f"{key}: " + "; ".join(str(t) for t in texts) if key != "base" else "; ".join(map(str, texts)))
        return " · ".join(parts)[:500]
    return response.text[:300]


def decimal_text(amount: Decimal, currency: str) -> str:
    """An exact amount as JSON APIs take it, in the currency's minor units:
    ``Decimal("12.5000")`` EUR → ``"12.50"``, ``Decimal("1200.0000")`` JPY → ``"1200"``."""
    return format(quantise(amount, currency), "f")


def _retry_after_seconds(header: str | None) -> float:
    """Seconds from a ``Retry-After`` header (delta-seconds, fractional allowed); 2.0 default."""
    try:
        return max(0.0, float(header)) if header else 2.0
    except ValueError:
        return 2.0
