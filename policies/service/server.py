"""Running the decision service under uvicorn with bounded time and connections per client.

uvicorn bounds the idle time between two requests of a connection (``timeout_keep_alive``)
and answers 503 beyond ``limit_concurrency`` open connections or running requests, but it
has no deadline for receiving a request's headers: a connection that never sends a request
line, or sends one byte at a time, is held forever (uvicorn issue #157). The protocol
class :func:`header_deadline_protocol` adds one: from the moment a connection opens, or
the previous answer is sent, the next request's headers must be complete within
``header_timeout`` seconds, else the connection is closed (with a 408 when part of a
request had arrived). The body has its own deadline in the application
(:class:`~ordercycle.policies.service.app.RequestGuard`), which also checks the token before
it reads a byte of the body.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_HEADER_TIMEOUT = 10.0
"""Seconds a client has to send a request's line and headers."""
DEFAULT_KEEP_ALIVE = 5
"""Seconds an idle keep-alive connection stays open between requests (uvicorn's default)."""
DEFAULT_LIMIT_CONCURRENCY = 64
"""Open connections (or running requests) beyond which uvicorn answers 503."""


@dataclass(frozen=True)
class ServerLimits:
    """What a client may hold of the server.

    Attributes:
        header_timeout: seconds to send a request's line and headers (408 or close after).
        keep_alive: seconds an idle connection stays open between requests.
        limit_concurrency: open connections or running requests beyond which new requests
            get 503 (``None``: no limit).
    """

    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    keep_alive: int = DEFAULT_KEEP_ALIVE
    limit_concurrency: int | None = DEFAULT_LIMIT_CONCURRENCY


def _timeout_answer(seconds: float) -> bytes:
    reason = f"the request line and headers must arrive within {seconds:g} s"
    body = json.dumps({"detail": "request headers not received in time",
                       "errors": [{"field": None, "reason": reason}]})
    head = (f"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return head.encode("ascii") + body.encode("ascii")


class HeaderDeadlineH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the headers of every request."""

    header_timeout: float = DEFAULT_HEADER_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm_header_deadline()

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_late)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def handle_events(self) -> None:
        """Parse what arrived; a new request cycle means its headers are complete."""
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:
            self._cancel_header_deadline()

    def on_response_complete(self) -> None:
        """The answer is sent: the next request's headers are due within the deadline."""
        self._arm_header_deadline()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def _headers_too_late(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing() or (self.cycle is not None and not self.cycle.response_complete):
            return
        if self.conn.trailing_data[0]:  # part of a request arrived: say why the connection ends
            self.transport.write(_timeout_answer(self.header_timeout))
        self.transport.close()


def header_deadline_protocol(header_timeout: float) -> type[HeaderDeadlineH11]:
    """The protocol class uvicorn runs (``http=``) with this header deadline."""
    return type("HeaderDeadlineH11", (HeaderDeadlineH11,), {"header_timeout": header_timeout})


def _protocol(http: str, header_timeout: float, workers: int = 1) -> Any:
    """uvicorn's ``http`` setting: h11 with the header deadline (a class of this module when the
    workers are separate processes, which set its deadline themselves), or the name given."""
    if http != "h11":
        return http
    return header_deadline_protocol(header_timeout) if workers == 1 else HeaderDeadlineH11


def uvicorn_config(app: Any, host: str, port: int, limits: ServerLimits = ServerLimits(),
                   log_level: str = "warning", http: str = "h11", **options: Any) -> Any:
    """The uvicorn configuration of the service: h11 with the header deadline (or ``http``), the
    keep-alive timeout and the concurrency limit of ``limits``, no access log; ``options`` are
    further uvicorn settings (``proxy_headers``, ``forwarded_allow_ips``, ``loop``)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False,
                          http=_protocol(http, limits.header_timeout),
                          timeout_keep_alive=limits.keep_alive, limit_concurrency=limits.limit_concurrency,
                          **options)


def serve(app: Any, host: str, port: int, limits: ServerLimits = ServerLimits(),
          log_level: str = "warning", **options: Any) -> None:
    """Run the service in this process until interrupted (``options``: as :func:`uvicorn_config`)."""
    import uvicorn

    uvicorn.Server(uvicorn_config(app, host, port, limits, log_level, **options)).run()


def serve_workers(factory: str, workers: int, host: str, port: int, limits: ServerLimits = ServerLimits(),
                  log_level: str = "warning", http: str = "h11", start_seconds: int = 120,
                  **options: Any) -> None:
    """Run ``workers`` processes under uvicorn's supervisor, each building the application with
    the import string ``factory`` (a ``SIGHUP`` replaces them one by one); each worker sets the
    header deadline of :class:`HeaderDeadlineH11` itself. The workers share a metrics directory
    made for the run (:data:`~.metrics.METRICS_DIR_ENV`; removed when the supervisor exits), so
    ``/metrics`` in any of them counts them all."""
    import uvicorn

    from ordercycle.policies.service.metrics import METRICS_DIR_ENV

    metrics_dir = tempfile.mkdtemp(prefix="ordercycle-metrics-")  # the run's: every worker writes here
    os.environ[METRICS_DIR_ENV] = metrics_dir
    try:
        _run_workers(uvicorn, factory, workers, host, port, limits, log_level, http, start_seconds, **options)
    finally:
        os.environ.pop(METRICS_DIR_ENV, None)
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _run_workers(uvicorn: Any, factory: str, workers: int, host: str, port: int, limits: ServerLimits,
                 log_level: str, http: str, start_seconds: int, **options: Any) -> None:
    uvicorn.run(factory, factory=True, workers=workers, host=host, port=port, log_level=log_level,
                access_log=False, http=_protocol(http, limits.header_timeout, workers),
                timeout_keep_alive=limits.keep_alive, limit_concurrency=limits.limit_concurrency,
                timeout_worker_healthcheck=start_seconds, **options)
