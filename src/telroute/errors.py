"""One error base carrying status, code and detail.

    TelrouteError                 status, code, detail, optional source
    ├── BadRequest            400 malformed query or body
    ├── Unauthorized          401 missing or wrong credentials
    ├── Forbidden             403 e.g. sending from a number the account does not own
    ├── NotFound              404 unknown path, or a resource of another account
    ├── MethodNotAllowed      405
    ├── RequestTimeout        408 the request head or body did not arrive in time (answered by the server)
    ├── PayloadTooLarge       413
    ├── UnsupportedMediaType  415
    ├── Unprocessable         422 well-formed but semantically invalid
    ├── TooManyRequests       429 carries retry_after seconds
    ├── RequestHeaderFieldsTooLarge  431 the request line and headers are over the limit
    └── ServiceUnavailable    503 the database is unreachable, or the process is at its connection limit

Carrier and webhook failures have their own two-way split (transient: retry; permanent:
record and stop): `messages/carrier_port.py` for carriers, `kit/outbound.py` and `webhooks/tasks.py` for callbacks.
"""

from __future__ import annotations


class TelrouteError(Exception):
    status: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        parameter: str | None = None,
        pointer: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.parameter = parameter
        self.pointer = pointer

    @property
    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(TelrouteError):
    status = 400
    code = "bad_request"


class Unauthorized(TelrouteError):
    status = 401
    code = "unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Basic realm="telroute"'}


class Forbidden(TelrouteError):
    status = 403
    code = "forbidden"


class NotFound(TelrouteError):
    status = 404
    code = "not_found"


class MethodNotAllowed(TelrouteError):
    status = 405
    code = "method_not_allowed"


class RequestTimeout(TelrouteError):
    status = 408
    code = "request_timeout"


class PayloadTooLarge(TelrouteError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(TelrouteError):
    status = 415
    code = "unsupported_media_type"


class Unprocessable(TelrouteError):
    status = 422
    code = "unprocessable"


class TooManyRequests(TelrouteError):
    status = 429
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, int(self.retry_after + 0.999)))}


class RequestHeaderFieldsTooLarge(TelrouteError):
    status = 431
    code = "request_header_fields_too_large"


class ServiceUnavailable(TelrouteError):
    status = 503
    code = "service_unavailable"

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}
