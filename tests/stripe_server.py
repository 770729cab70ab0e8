"""A small, stateful, Stripe-compatible HTTP server on loopback for the payments tests.

The real ``stripe`` library talks HTTP to it, so the payments code runs as in production:
form-encoded parameters, idempotency keys, Stripe's error shapes and list pagination.
Tests play the customer and Stripe's side through Python methods (``complete_session``,
``async_payment_succeeded``, ``advance``, ...) and read the events Stripe would send; they
make the network misbehave with ``inject`` (a slow answer, an answer lost after the work was
done, an outage), so the payments code is tried against faults as well as the happy path.
Only Checkout Sessions in payment mode, their payment intents and charges, refunds and
events are modelled.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import html
import json
import operator
import re
import secrets
import socket
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import stripe
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from tests.stripe_helpers import sign_webhook

JSON = dict[str, Any]

ID_PREFIXES = {
    "checkout.session": "cs_test_",
    "payment_intent": "pi_",
    "charge": "ch_",
    "refund": "re_",
    "event": "evt_",
}
LIST_URLS = {"checkout.session": "/v1/checkout/sessions", "refund": "/v1/refunds", "event": "/v1/events"}
MIN_SESSION_LIFETIME = 30 * 60
MAX_SESSION_LIFETIME = 24 * 60 * 60
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
TAMPERABLE = frozenset({"amount_total", "currency", "client_reference_id", "metadata"})
COMPARISONS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}

_FORM_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_ID_CHARS = string.ascii_letters + string.digits
_CHECKOUT_PAGE = """<!doctype html>
<title>Fake Stripe Checkout</title>
<h1>Pay {amount} {currency}</h1>
<form method="post">
  <button name="action" value="pay">Pay</button>
  <button name="action" value="cancel">Cancel</button>
</form>
"""


class StripeApiError(Exception):
    """An error answer in Stripe's shape, raised by the endpoints and by the test-side methods."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        error = {"type": type, "message": message, "param": param, "code": code}
        self.body: JSON = {"error": {key: value for key, value in error.items() if value is not None}}


def parse_params(pairs: Iterable[tuple[str, str]]) -> JSON:
    """Turn Stripe's bracketed form keys (``a[b][0][c]=1``, ``a[]=x``) into nested dicts and lists."""
    root: JSON = {}
    for key, value in pairs:
        match = _FORM_KEY.fullmatch(key)
        if match is None:
            raise StripeApiError(400, f"Invalid parameter name: {key}", param=key)
        *parents, last = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise StripeApiError(400, f"Invalid hash: {key} mixes a value and nested keys", param=key)
        node[last or str(len(node))] = value  # "a[]" appends
    return _listify(root)


def _listify(value: Any, key: str = "") -> Any:
    """Make lists of dicts keyed 0, 1, ...; never under metadata, whose keys may well be digits."""
    if not isinstance(value, dict):
        return value
    items = {name: _listify(item, name) for name, item in value.items()}
    if key != "metadata" and items and all(name.isdigit() for name in items):
        return [items[name] for name in sorted(items, key=int)]
    return items


def _random_id(length: int) -> str:
    return "".join(secrets.choice(_ID_CHARS) for _ in range(length))


def _missing(param: str) -> StripeApiError:
    return StripeApiError(400, f"Missing required param: {param}.", param=param, code="parameter_missing")


def _only(params: JSON, allowed: Iterable[str], prefix: str = "") -> None:
    """Refuse unknown parameters as Stripe does, so a typo in the payments code fails loudly."""
    for key in params:
        if key not in allowed:
            name = f"{prefix}[{key}]" if prefix else key
            raise StripeApiError(400, f"Received unknown parameter: {name}", param=name)


def _hash(value: Any, param: str) -> JSON:
    if value is None or value == "":  # Stripe lets an empty string stand for "no value"
        return {}
    if not isinstance(value, dict):
        raise StripeApiError(400, f"Invalid object: {param} must be a hash.", param=param)
    return value


def _metadata(value: Any, param: str) -> dict[str, str]:
    metadata = _hash(value, param)
    for key, item in metadata.items():
        if not isinstance(item, str):
            raise StripeApiError(400, f"Invalid value for {param}[{key}]: metadata values are strings.", param=param)
    return dict(metadata)


def _required(params: JSON, key: str, param: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value:
        raise _missing(param)
    return value


def _integer(value: Any, param: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    if value is None:
        raise _missing(param)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StripeApiError(400, f"Invalid integer: {value}", param=param) from None
    if minimum is not None and number < minimum:
        raise StripeApiError(400, f"This value must be greater than or equal to {minimum}.", param=param)
    if maximum is not None and number > maximum:
        raise StripeApiError(400, f"This value must be less than or equal to {maximum}.", param=param)
    return number


def _created_filter(condition: Any) -> Callable[[int], bool]:
    """Build the test for ``created=<t>`` or ``created[gte]=<t>`` and friends."""
    if condition is None:
        return lambda created: True
    if not isinstance(condition, dict):
        moment = _integer(condition, "created")
        return lambda created: created == moment
    _only(condition, COMPARISONS, "created")
    bounds = [(COMPARISONS[op], _integer(value, f"created[{op}]")) for op, value in condition.items()]
    return lambda created: all(compare(created, bound) for compare, bound in bounds)


def _line_item_amount(item: Any, name: str) -> tuple[int, str]:
    """Return the line item's amount in minor units and its lower-case currency."""
    item = _hash(item, name)
    _only(item, ("price_data", "quantity"), name)
    quantity = _integer(item.get("quantity"), f"{name}[quantity]", minimum=1)
    price_data = _hash(item.get("price_data"), f"{name}[price_data]")
    if not price_data:
        raise _missing(f"{name}[price_data]")
    _only(price_data, ("currency", "unit_amount", "product_data"), f"{name}[price_data]")
    currency = _required(price_data, "currency", f"{name}[price_data][currency]").lower()
    unit_amount = _integer(price_data.get("unit_amount"), f"{name}[price_data][unit_amount]", minimum=0)
    product_data = _hash(price_data.get("product_data"), f"{name}[price_data][product_data]")
    _only(product_data, ("name", "description"), f"{name}[price_data][product_data]")
    _required(product_data, "name", f"{name}[price_data][product_data][name]")
    return unit_amount * quantity, currency


def _json(body: JSON, status: int, *, replayed: bool = False) -> Response:
    response = Response(json.dumps(body), status, mimetype="application/json")
    response.headers["Request-Id"] = f"req_{_random_id(14)}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


FAULT_KINDS = ("slow", "lost", "down")


class _Fault:
    """A way for matching requests to misbehave, for a number of times (None: until cleared)."""

    def __init__(self, kind: str, method: str, path: str, times: int | None, seconds: float) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}")
        self.kind, self.method, self.path, self.times, self.seconds = kind, method, path, times, seconds

    def take(self, method: str, path: str) -> bool:
        """Say whether this request is hit, counting it down."""
        if self.times == 0 or not fnmatch.fnmatchcase(method, self.method) or not fnmatch.fnmatchcase(path, self.path):
            return False
        if self.times is not None:
            self.times -= 1
        return True


class _QuietHandler(WSGIRequestHandler):
    """Keep a line per request out of the test output; errors are still logged."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class FakeStripe:
    """Stripe's API for Checkout Sessions, refunds and events, served on 127.0.0.1 for tests.

    Create it once per test run (it starts serving at once), ``reset()`` it between tests
    and ``stop()`` it at the end. State is guarded by one lock, so requests from several
    threads see the same consistent Stripe.
    """

    #: The version stamped on events, as for a webhook endpoint created with this library.
    api_version: str = stripe.api_version
    signature_header = staticmethod(sign_webhook)

    def __init__(self) -> None:
        self.api_key = f"sk_test_{_random_id(24)}"
        self._lock = threading.Lock()
        self._objects: dict[str, dict[str, JSON]] = {kind: {} for kind in ID_PREFIXES}
        self._payment_intent_metadata: dict[str, dict[str, str]] = {}
        self._idempotent: dict[tuple[str, str], tuple[tuple[str, str, JSON], JSON]] = {}
        self._offset = 0
        self._faults: list[_Fault] = []
        self.hits: list[tuple[str, str]] = []
        api = self._api

        def retrieve(kind: str) -> Callable[..., Response]:
            return api(functools.partial(self._retrieve, kind))

        self._routes = Map(
            [
                Rule("/v1/checkout/sessions", methods=["POST"], endpoint=api(self._create_session)),
                Rule("/v1/checkout/sessions", methods=["GET"], endpoint=api(self._list_sessions)),
                Rule("/v1/checkout/sessions/<object_id>", methods=["GET"], endpoint=retrieve("checkout.session")),
                Rule("/v1/checkout/sessions/<object_id>/expire", methods=["POST"], endpoint=api(self._expire_request)),
                Rule("/v1/refunds", methods=["POST"], endpoint=api(self._create_refund)),
                Rule("/v1/refunds", methods=["GET"], endpoint=api(self._list_refunds)),
                Rule("/v1/refunds/<object_id>", methods=["GET"], endpoint=retrieve("refund")),
                Rule("/v1/payment_intents/<object_id>", methods=["GET"], endpoint=retrieve("payment_intent")),
                Rule("/v1/charges/<object_id>", methods=["GET"], endpoint=retrieve("charge")),
                Rule("/v1/events", methods=["GET"], endpoint=api(self._list_events)),
                Rule("/v1/events/<object_id>", methods=["GET"], endpoint=retrieve("event")),
                Rule("/pay/<object_id>", methods=["GET", "POST"], endpoint=self._checkout_page),
            ]
        )
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-stripe", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def reset(self) -> None:
        """Forget every object, event and idempotency key, and put the clock back to real time."""
        with self._lock:
            for store in self._objects.values():
                store.clear()
            self._payment_intent_metadata.clear()
            self._idempotent.clear()
            self._offset = 0
            self._faults.clear()
            self.hits.clear()

    # -- faults -------------------------------------------------------------------------

    def inject(
        self, kind: str, *, method: str = "*", path: str = "/v1/*", times: int | None = 1, seconds: float = 0.0
    ) -> None:
        """Make requests matching ``method`` and ``path`` (shell patterns) misbehave, ``times`` times (None: until cleared).

        "slow" answers after ``seconds`` (the work is done after the wait, as a real slow
        server does it even when the client has given up); "lost" does the work, then drops
        the connection without answering; "down" answers 503 without doing anything.
        """
        with self._lock:
            self._faults.append(_Fault(kind, method, path, times, seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _fault_for(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            self.hits.append((method, path))
            return next((fault for fault in self._faults if fault.take(method, path)), None)

    # -- time -------------------------------------------------------------------------

    def now(self) -> int:
        """Return Stripe's current unix time, which tests move with advance() instead of sleeping."""
        return int(time.time()) + self._offset

    def advance(self, seconds: int) -> None:
        """Move Stripe's clock forward; open sessions past their expires_at expire on the next call."""
        if seconds < 0:
            raise ValueError("Stripe's clock only moves forward.")
        with self._lock:
            self._offset += seconds

    # -- the customer's and Stripe's side, for tests -----------------------------------

    def complete_session(self, session_id: str, *, paid: bool = True) -> JSON:
        """Play a customer finishing Checkout: paid by card, or ``paid=False`` for a delayed
        method (Bacs, SEPA) whose payment is still processing."""
        with self._state():
            session = self._get("checkout.session", session_id)
            self._complete(session, paid=paid)
            return copy.deepcopy(session)

    def async_payment_succeeded(self, session_id: str) -> JSON:
        """Settle a delayed payment, as Stripe does days after a Bacs or SEPA checkout."""
        with self._state():
            session = self._processing_session(session_id)
            self._settle(session, succeeded=True)
            self._emit("checkout.session.async_payment_succeeded", session)
            return copy.deepcopy(session)

    def async_payment_failed(self, session_id: str) -> JSON:
        """Fail a delayed payment; the session stays complete and unpaid."""
        with self._state():
            session = self._processing_session(session_id)
            self._settle(session, succeeded=False)
            self._emit("checkout.session.async_payment_failed", session)
            return copy.deepcopy(session)

    def expire_session(self, session_id: str) -> JSON:
        """Expire an open session, exactly as POST /v1/checkout/sessions/{id}/expire does."""
        with self._state():
            session = self._get("checkout.session", session_id)
            self._expire(session)
            return copy.deepcopy(session)

    def tamper(self, session_id: str, **fields: Any) -> JSON:
        """Change a session behind the app's back, to test that mismatches are caught."""
        unknown = set(fields) - TAMPERABLE
        if unknown:
            raise TypeError(f"tamper() can only change {sorted(TAMPERABLE)}, not {sorted(unknown)}")
        with self._state():
            session = self._get("checkout.session", session_id)
            session.update(copy.deepcopy(fields))
            return copy.deepcopy(session)

    def events(self, type: str | None = None) -> list[JSON]:
        """Return the events emitted so far, oldest first; ``type`` may use ``*`` as Stripe allows."""
        with self._state():
            events = self._objects["event"].values()
            return [copy.deepcopy(e) for e in events if type is None or fnmatch.fnmatchcase(e["type"], type)]

    def objects(self, kind: str) -> list[JSON]:
        """Return copies of every object of a kind ("checkout.session", "refund", ...), oldest first."""
        with self._state():
            return copy.deepcopy(list(self._objects[kind].values()))

    def created_count(self, kind: str) -> int:
        """Count the objects really created, so a test can prove a double click made only one."""
        with self._state():
            return len(self._objects[kind])

    def get(self, object_id: str) -> JSON:
        """Return a copy of any object by its id, without going through HTTP."""
        with self._state():
            found = self._find(object_id)
            if found is None:
                raise KeyError(object_id)
            return copy.deepcopy(found)

    @staticmethod
    def webhook_request(event: JSON, secret: str, *, timestamp: int | None = None) -> tuple[bytes, dict[str, str]]:
        """Return the exact body and headers Stripe would POST to a webhook endpoint for ``event``."""
        body = json.dumps(event).encode()
        return body, {"Content-Type": "application/json", "Stripe-Signature": sign_webhook(body, secret, timestamp)}

    # -- HTTP -------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        fault = self._fault_for(request.method, request.path)
        if fault is not None and fault.kind == "down":
            body = StripeApiError(503, "Stripe is temporarily unavailable (injected).", type="api_error").body
            return _json(body, 503)(environ, start_response)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.seconds)
        try:
            endpoint, args = self._routes.bind_to_environ(environ).match()
        except HTTPException:
            message = f"Unrecognized request URL ({request.method}: {request.path})."
            response = _json(StripeApiError(404, message).body, 404)
        else:
            response = endpoint(request, **args)
        if fault is not None and fault.kind == "lost":
            # The work is done; the answer never reaches the client.
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            start_response("200 OK", [])  # writing it fails quietly: the server sees a dropped connection
            return []
        return response(environ, start_response)

    def _api(self, handler: Callable[..., JSON]) -> Callable[..., Response]:
        """Wrap a handler in what every API call shares: auth, parameters, idempotency, errors."""

        def endpoint(request: Request, **args: str) -> Response:
            try:
                api_key = self._authenticate(request)
                source = request.form if request.method == "POST" else request.args
                params = parse_params(source.items(multi=True))
            except StripeApiError as error:
                return _json(error.body, error.status)
            key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
            fingerprint = (request.method, request.path, params)
            with self._state():
                if key and (api_key, key) in self._idempotent:
                    first, body = self._idempotent[api_key, key]
                    if first != fingerprint:
                        message = (
                            "Keys for idempotent requests can only be used with the same parameters they were "
                            f"first used with. Try using a key other than '{key}' if you meant to execute a "
                            "different request."
                        )
                        return _json(StripeApiError(400, message, type="idempotency_error").body, 400)
                    return _json(body, 200, replayed=True)
                try:
                    body = handler(params, **args)
                except StripeApiError as error:
                    return _json(error.body, error.status)
                # Stripe also replays errors from requests that began executing; keeping only
                # successes is simpler, and a retried failure here just runs (and fails) again.
                if key:
                    self._idempotent[api_key, key] = (fingerprint, body)
            return _json(body, 200)

        return endpoint

    def _authenticate(self, request: Request) -> str:
        authorization = request.headers.get("Authorization", "")
        if not authorization.startswith("Bearer "):
            raise StripeApiError(
                401, "You did not provide an API key. Provide it in the Authorization header as a Bearer token."
            )
        api_key = authorization.removeprefix("Bearer ")
        if not secrets.compare_digest(api_key.encode(), self.api_key.encode()):
            raise StripeApiError(401, f"Invalid API Key provided: {api_key[:8]}****{api_key[-4:]}")
        return api_key

    def _checkout_page(self, request: Request, object_id: str) -> Response:
        """Stand in for Stripe's hosted page, so a browser test can pay or cancel."""
        with self._state():
            session = self._objects["checkout.session"].get(object_id)
            if session is None or session["status"] != "open":
                return Response("This Checkout Session is no longer available.", 404, mimetype="text/plain")
            if request.method == "GET":
                amount = f"{session['amount_total'] / 100:.2f}"
                page = _CHECKOUT_PAGE.format(amount=amount, currency=html.escape(session["currency"].upper()))
                return Response(page, mimetype="text/html")
            if request.form.get("action") == "pay":
                self._complete(session, paid=True)
                target = session["success_url"]
            else:
                target = session["cancel_url"]
        if target is None:
            return Response("Done.", mimetype="text/plain")
        return redirect(target.replace("{CHECKOUT_SESSION_ID}", object_id), 303)

    # -- endpoints --------------------------------------------------------------------

    def _create_session(self, params: JSON) -> JSON:
        _only(
            params,
            (
                "mode",
                "line_items",
                "client_reference_id",
                "metadata",
                "customer_email",
                "success_url",
                "cancel_url",
                "expires_at",
                "payment_intent_data",
                "payment_method_types",
                "expand",
            ),
        )
        if params.get("mode") != "payment":
            if "mode" not in params:
                raise _missing("mode")
            raise StripeApiError(400, "This test server only supports mode=payment.", param="mode")
        line_items = params.get("line_items")
        if not isinstance(line_items, list) or not line_items:
            raise _missing("line_items")
        amounts = [_line_item_amount(item, f"line_items[{index}]") for index, item in enumerate(line_items)]
        currencies = {currency for _, currency in amounts}
        if len(currencies) > 1:
            raise StripeApiError(400, "All line items must use the same currency.", param="line_items")
        created = self.now()
        expires_at = _integer(params.get("expires_at", created + MAX_SESSION_LIFETIME), "expires_at")
        if expires_at < created + MIN_SESSION_LIFETIME:
            message = "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."
            raise StripeApiError(400, message, param="expires_at")
        if expires_at > created + MAX_SESSION_LIFETIME:
            message = "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation."
            raise StripeApiError(400, message, param="expires_at")
        payment_intent_data = _hash(params.get("payment_intent_data"), "payment_intent_data")
        _only(payment_intent_data, ("metadata",), "payment_intent_data")
        payment_method_types = params.get("payment_method_types", ["card"])
        if not isinstance(payment_method_types, list):
            raise StripeApiError(400, "Invalid array", param="payment_method_types")
        total = sum(amount for amount, _ in amounts)
        session = self._new(
            "checkout.session",
            amount_subtotal=total,
            amount_total=total,
            cancel_url=params.get("cancel_url"),
            client_reference_id=params.get("client_reference_id"),
            currency=currencies.pop(),
            customer_email=params.get("customer_email"),
            expires_at=expires_at,
            metadata=_metadata(params.get("metadata"), "metadata"),
            mode="payment",
            payment_intent=None,
            payment_method_types=payment_method_types,
            payment_status="unpaid",
            status="open",
            success_url=params.get("success_url"),
        )
        session["url"] = f"{self.url}/pay/{session['id']}"
        self._payment_intent_metadata[session["id"]] = _metadata(
            payment_intent_data.get("metadata"), "payment_intent_data[metadata]"
        )
        return self._render(session, params)

    def _list_sessions(self, params: JSON) -> JSON:
        _only(params, ("created", "status", "payment_intent", "limit", "starting_after", "expand"))
        return self._list("checkout.session", params, filters=("status", "payment_intent"))

    def _expire_request(self, params: JSON, object_id: str) -> JSON:
        _only(params, ("expand",))
        session = self._get("checkout.session", object_id)
        self._expire(session)
        return self._render(session, params)

    def _create_refund(self, params: JSON) -> JSON:
        _only(params, ("payment_intent", "charge", "amount", "reason", "metadata", "expand"))
        amount = _integer(params["amount"], "amount", minimum=1) if "amount" in params else None
        reason = params.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise StripeApiError(400, f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}", param="reason")
        metadata = _metadata(params.get("metadata"), "metadata")
        charge = self._refundable_charge(params)
        unrefunded = charge["amount"] - charge["amount_refunded"]
        if unrefunded == 0:
            message = f"Charge {charge['id']} has already been refunded."
            raise StripeApiError(400, message, code="charge_already_refunded")
        if amount is None:
            amount = unrefunded
        elif amount > unrefunded:
            message = f"Refund amount ({amount}) is greater than unrefunded amount on charge ({unrefunded})"
            raise StripeApiError(400, message, param="amount")
        refund = self._new(
            "refund",
            amount=amount,
            charge=charge["id"],
            currency=charge["currency"],
            metadata=metadata,
            payment_intent=charge["payment_intent"],
            reason=reason,
            status="succeeded",
        )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("refund.created", refund)
        self._emit("charge.refunded", charge)
        return self._render(refund, params)

    def _list_refunds(self, params: JSON) -> JSON:
        _only(params, ("payment_intent", "charge", "created", "limit", "starting_after", "expand"))
        return self._list("refund", params, filters=("payment_intent", "charge"))

    def _list_events(self, params: JSON) -> JSON:
        _only(params, ("type", "types", "created", "limit", "starting_after", "expand"))
        types = params.get("types")
        pattern = params.get("type")
        if types is not None:
            if not isinstance(types, list):
                raise StripeApiError(400, "Invalid array", param="types")
            return self._list("event", params, keep=lambda event: event["type"] in types)
        if pattern is not None:
            return self._list("event", params, keep=lambda event: fnmatch.fnmatchcase(event["type"], pattern))
        return self._list("event", params)

    def _retrieve(self, kind: str, params: JSON, object_id: str) -> JSON:
        _only(params, ("expand",))
        return self._render(self._get(kind, object_id), params)

    # -- state (the lock is held) -------------------------------------------------------

    @contextmanager
    def _state(self) -> Iterator[None]:
        """Hold the lock, first expiring the sessions whose time is up, as Stripe does on its own."""
        with self._lock:
            now = self.now()
            for session in self._objects["checkout.session"].values():
                if session["status"] == "open" and session["expires_at"] <= now:
                    self._expire(session)
            yield

    def _new(self, kind: str, **fields: Any) -> JSON:
        obj = {
            "id": ID_PREFIXES[kind] + _random_id(24),
            "object": kind,
            "created": self.now(),
            "livemode": False,
            **fields,
        }
        self._objects[kind][obj["id"]] = obj
        return obj

    def _emit(self, type: str, obj: JSON) -> None:
        self._new(
            "event",
            api_version=self.api_version,
            data={"object": copy.deepcopy(obj)},  # a snapshot: later changes must not show
            pending_webhooks=1,
            type=type,
        )

    def _find(self, object_id: str) -> JSON | None:
        for kind, prefix in ID_PREFIXES.items():
            if object_id.startswith(prefix):
                return self._objects[kind].get(object_id)
        return None

    def _get(self, kind: str, object_id: str, *, param: str = "id", status: int = 404) -> JSON:
        obj = self._objects[kind].get(object_id)
        if obj is None:
            raise StripeApiError(status, f"No such {kind}: '{object_id}'", param=param, code="resource_missing")
        return obj

    def _render(self, obj: JSON, params: JSON) -> JSON:
        """Copy ``obj`` for a response, replacing the ids named in ``expand`` by their objects."""
        rendered = copy.deepcopy(obj)
        expand = params.get("expand", [])
        if not isinstance(expand, list):
            raise StripeApiError(400, "Invalid array", param="expand")
        for path in expand:
            self._expand(rendered, path.split("."), path)
        return rendered

    def _expand(self, value: JSON, path: list[str], full_path: str) -> JSON:
        if not path:
            return value
        field, rest = path[0], path[1:]
        target = value.get(field)
        if field == "data" and value.get("object") == "list":
            value["data"] = [self._expand(item, rest, full_path) for item in target]
        elif isinstance(target, str) and (found := self._find(target)) is not None:
            value[field] = self._expand(copy.deepcopy(found), rest, full_path)
        elif isinstance(target, dict) and "object" in target:  # expanded by an earlier path
            self._expand(target, rest, full_path)
        elif not (field in value and target is None):  # Stripe leaves a null reference null
            raise StripeApiError(400, f"This property cannot be expanded ({full_path}).", param="expand")
        return value

    def _list(
        self, kind: str, params: JSON, *, filters: Iterable[str] = (), keep: Callable[[JSON], bool] | None = None
    ) -> JSON:
        """Answer a list call: newest first, filtered, one page after ``starting_after``."""
        limit = _integer(params.get("limit", 10), "limit", minimum=1, maximum=100)
        created = _created_filter(params.get("created"))
        wanted = {field: params[field] for field in filters if field in params}
        store = self._objects[kind]
        ids = list(store)
        if "starting_after" in params:
            cursor = params["starting_after"]
            if cursor not in store:
                message = f"No such {kind}: '{cursor}'"
                raise StripeApiError(400, message, param="starting_after", code="resource_missing")
            ids = ids[: ids.index(cursor)]
        matches = [
            store[object_id]
            for object_id in reversed(ids)
            if created(store[object_id]["created"])
            and all(store[object_id][field] == value for field, value in wanted.items())
            and (keep is None or keep(store[object_id]))
        ]
        page = {"object": "list", "data": matches[:limit], "has_more": len(matches) > limit, "url": LIST_URLS[kind]}
        return self._render(page, params)

    def _expire(self, session: JSON) -> None:
        if session["status"] != "open":
            message = (
                'Only Checkout Sessions with a status in ["open"] can be expired. '
                f'This Checkout Session has a status of "{session["status"]}".'
            )
            raise StripeApiError(400, message)
        session.update(status="expired", url=None)
        self._emit("checkout.session.expired", session)

    def _complete(self, session: JSON, *, paid: bool) -> None:
        if session["status"] != "open":
            raise StripeApiError(400, f"Checkout Session {session['id']} is {session['status']} and cannot be paid.")
        amount, currency = session["amount_total"], session["currency"]
        intent = self._new(
            "payment_intent",
            amount=amount,
            amount_received=0,
            currency=currency,
            latest_charge=None,
            metadata=dict(self._payment_intent_metadata[session["id"]]),
            payment_method_types=session["payment_method_types"],
            status="processing",
        )
        # A delayed method's charge exists at once but stays pending until it settles.
        charge = self._new(
            "charge",
            amount=amount,
            amount_captured=amount,
            amount_refunded=0,
            captured=True,
            currency=currency,
            metadata={},
            paid=False,
            payment_intent=intent["id"],
            refunded=False,
            status="pending",
        )
        intent["latest_charge"] = charge["id"]
        session.update(status="complete", payment_intent=intent["id"], url=None)
        if paid:
            self._settle(session, succeeded=True)
        self._emit("checkout.session.completed", session)

    def _processing_session(self, session_id: str) -> JSON:
        session = self._get("checkout.session", session_id)
        intent = self._objects["payment_intent"].get(session["payment_intent"] or "")
        if intent is None or intent["status"] != "processing":
            raise StripeApiError(400, f"Checkout Session {session_id} has no payment still processing.")
        return session

    def _settle(self, session: JSON, *, succeeded: bool) -> None:
        intent = self._objects["payment_intent"][session["payment_intent"]]
        charge = self._objects["charge"][intent["latest_charge"]]
        if succeeded:
            intent.update(status="succeeded", amount_received=intent["amount"])
            charge.update(status="succeeded", paid=True)
            session["payment_status"] = "paid"
        else:
            intent.update(status="requires_payment_method")
            charge.update(status="failed")

    def _refundable_charge(self, params: JSON) -> JSON:
        if ("charge" in params) == ("payment_intent" in params):
            raise StripeApiError(400, "Pass exactly one of charge or payment_intent.", param="payment_intent")
        if "charge" in params:
            charge: JSON | None = self._get("charge", params["charge"], param="charge", status=400)
            source = params["charge"]
        else:
            intent = self._get("payment_intent", params["payment_intent"], param="payment_intent", status=400)
            charge = self._objects["charge"].get(intent["latest_charge"] or "")
            source = intent["id"]
        if charge is None or charge["status"] != "succeeded":
            raise StripeApiError(400, f"{source} does not have a successful charge to refund.")
        return charge
