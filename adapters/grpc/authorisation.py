"""Who may call which service: administrators (``SSBTEK_ADMINS``) and auditors.

Municipalities query (``QueryService``); the operator and SKR run the life of the parties,
the agreement, the incidents and the escalations. On a mutual-TLS connection the caller's
organisation comes from its certificate; a caller that is not an administrator gets
``PERMISSION_DENIED`` (ErrorInfo reason ``ADMINISTRATORS_ONLY``) before the servicer runs.
On a plaintext connection (development, 127.0.0.1 only) there is no identity to check,
and production refuses to run without TLS.

The audit service's logs are for a limited number of people (Bilaga 3 § 6.3): with
auditors configured (``SSBTEK_AUDIT_AUDITORS``), only a client certificate naming one of
them may call it; any other caller, a plaintext one included, gets ``PERMISSION_DENIED``
(reason ``NOT_AN_AUDITOR``).

Both refuse by raising ``PermissionDeniedError``; the outermost interceptor
(``status.ReportedCalls``) turns it into the status with its ``ErrorInfo``, as it does for
every other refusal, and logs the call.
"""

from __future__ import annotations

from adapters.grpc.identity import authenticated_organisation
from adapters.grpc.interceptors import Context, Handler, MethodInterceptor, before, service_of, wrap
from application.errors import PermissionDeniedError


class _ServicesChecked(MethodInterceptor):
    """Checks each call of ``services`` with ``check`` before the servicer runs."""

    def __init__(self, services: frozenset[str]) -> None:
        self._services = services

    def wrap_method(self, method: str, handler: Handler) -> Handler:
        if service_of(method) not in self._services:
            return handler
        return wrap(handler, around=before(self.check))

    async def check(self, context: Context) -> None:
        raise NotImplementedError


class AdministratorsOnly(_ServicesChecked):
    """Over mutual TLS, only ``administrators`` may call ``services``."""

    def __init__(self, services: frozenset[str], administrators: frozenset[str]) -> None:
        super().__init__(services)
        self._administrators = administrators

    async def check(self, context: Context) -> None:
        organisation = authenticated_organisation(context)
        if organisation is not None and organisation not in self._administrators:
            raise PermissionDeniedError("ADMINISTRATORS_ONLY")


class AuditorsOnly(_ServicesChecked):
    """With ``auditors`` configured, only their certificates may call ``services``."""

    def __init__(self, services: frozenset[str], auditors: frozenset[str]) -> None:
        super().__init__(services)
        self._auditors = auditors

    async def check(self, context: Context) -> None:
        if self._auditors and authenticated_organisation(context) not in self._auditors:
            raise PermissionDeniedError("NOT_AN_AUDITOR")
