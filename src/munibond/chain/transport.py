"""A command's network settings applied to every transaction and request (`munibond.netsettings`).

* Gas pricing: while a session is connected, every transaction Ape builds (contract calls, deployments, the
  templates of `munibond.chain.sending.Sender`) takes the network's transaction type and fees unless the caller
  set its own, and Ape's own sends wait for the network's confirmations.
* Retries: the node's HTTP provider tries a read again after a transient failure (connection refused or reset,
  timeout, HTTP 429/502/503/504), with exponential backoff and one line on stderr per retry. A transaction sent
  (`eth_sendRawTransaction`) is never sent again blindly: the failure is raised as `SendUnconfirmed`, carrying
  the signed bytes, and whoever sent it (`Sender`) first asks the node whether it landed, by hash and nonce. When
  the node stays away, `NodeUnavailable` ends the command in one line (exit 2); the commands resume from the chain.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import requests

from munibond.netsettings import DEFAULT, NetworkSettings, RetryPolicy

SEND_METHODS = frozenset({"eth_sendRawTransaction", "eth_sendTransaction"})
TRANSIENT_HTTP_STATUS = frozenset({429, 502, 503, 504})
_FEE_KEYS = frozenset(
    {"type", "gas_price", "gasPrice", "max_fee", "maxFeePerGas", "max_priority_fee", "maxPriorityFeePerGas"}
)

_ACTIVE: ContextVar[NetworkSettings] = ContextVar("munibond_network_settings", default=DEFAULT)


class NodeUnavailable(RuntimeError):
    """The node did not answer a request after every retry (or a send, which is not retried blindly)."""

    @classmethod
    def after(cls, method: str, attempts: int, cause: BaseException) -> NodeUnavailable:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        return cls(f"the node did not answer {method} ({transient_reason(cause) or cause}){tries}")


class SendUnconfirmed(NodeUnavailable):
    """A transaction was handed to the node but no answer came back: it may or may not have been received."""

    def __init__(self, message: str, raw: bytes | None) -> None:
        self.raw = raw
        super().__init__(message)


def active() -> NetworkSettings:
    """The connected network's settings (the defaults outside a session)."""
    return _ACTIVE.get()


def transient_reason(exc: BaseException) -> str | None:
    """A short reason when `exc` is a transient transport failure worth retrying, else None."""
    if isinstance(exc, requests.HTTPError):
        status = getattr(exc.response, "status_code", None)
        return f"HTTP {status}" if status in TRANSIENT_HTTP_STATUS else None
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError | ConnectionError):
        text = str(exc).lower()
        if "refused" in text:
            return "connection refused"
        if "reset" in text or "aborted" in text or "disconnected" in text:
            return "connection dropped"
        return "connection failed"
    return None


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class RetryingRequests:
    """Wraps an HTTP provider's `make_request` (and `make_batch_request`) with bounded retries of reads."""

    def __init__(
        self,
        provider: Any,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        say: Callable[[str], None] = _say,
    ) -> None:
        self.policy = policy
        self.sleep = sleep
        self.say = say
        self._single = provider.make_request
        self._batch = getattr(provider, "make_batch_request", None)

    def make_request(self, method: str, params: Any) -> Any:
        if method in SEND_METHODS:
            try:
                return self._single(method, params)
            except Exception as exc:
                if transient_reason(exc) is None:
                    raise
                raw = _raw_bytes(params) if method == "eth_sendRawTransaction" else None
                reason = transient_reason(exc)
                raise SendUnconfirmed(f"the node did not answer {method} ({reason})", raw) from exc
        return self._retrying(method, lambda: self._single(method, params))

    def make_batch_request(self, requests_: Any) -> Any:
        if self._batch is None:
            raise NotImplementedError("the provider does not batch requests")
        if any(method in SEND_METHODS for method, _ in requests_):
            return self._batch(requests_)
        return self._retrying("a batch of reads", lambda: self._batch(requests_))

    def _retrying(self, method: str, call: Callable[[], Any]) -> Any:
        retry = 0
        while True:
            try:
                return call()
            except Exception as exc:
                reason = transient_reason(exc)
                if reason is None:
                    raise
                retry += 1
                if retry > self.policy.attempts:
                    raise NodeUnavailable.after(method, retry, exc) from exc
                delay = self.policy.delay(retry)
                self.say(f"node: {method} failed ({reason}); retry {retry}/{self.policy.attempts} in {delay:g} s")
                self.sleep(delay)


def _raw_bytes(params: Any) -> bytes | None:
    try:
        value = params[0]
    except (IndexError, TypeError, KeyError):
        return None
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return None


def install_retries(web3: Any, policy: RetryPolicy) -> RetryingRequests | None:
    """Route `web3`'s HTTP requests through `RetryingRequests`, web3's own silent retries turned off. Behind web3's
    `AutoProvider` (Ape's for an RPC URI) the HTTP provider it settled on becomes `web3`'s provider: on a failed
    request `AutoProvider` sends it once more through a fresh connection, transactions included, which would
    bypass the check of whether a transaction landed. Other transports (IPC, websockets) are left as they are."""
    from web3 import HTTPProvider
    from web3.providers.auto import AutoProvider

    provider = web3.provider
    if isinstance(provider, AutoProvider):
        settled = getattr(provider, "_active_provider", None)
        if not isinstance(settled, HTTPProvider):
            return None
        web3.provider = provider = settled
    if not isinstance(provider, HTTPProvider):
        return None
    if isinstance(getattr(provider, "make_request", None), _Bound):
        provider.make_request.retrying.policy = policy  # a later session of the same process: its own policy
        return provider.make_request.retrying
    provider.exception_retry_configuration = None
    retrying = RetryingRequests(provider, policy)
    provider.make_request = _Bound(retrying, retrying.make_request)
    provider.make_batch_request = retrying.make_batch_request
    # web3 caches the request functions it built over make_request and make_batch_request
    provider._request_func_cache = (None, None)
    provider._batch_request_func_cache = (None, None)
    return retrying


class _Bound:
    """`make_request` installed on a provider, remembering its wrapper (so installing twice wraps once)."""

    def __init__(self, retrying: RetryingRequests, function: Callable[..., Any]) -> None:
        self.retrying = retrying
        self.function = function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)


@contextmanager
def applied(settings: NetworkSettings, ecosystem: Any) -> Iterator[None]:
    """Make `settings` the active ones and have `ecosystem` build every transaction with the network's gas type,
    fees and confirmations (a caller's own fee arguments win)."""
    token = _ACTIVE.set(settings)
    cls = type(ecosystem)
    original = cls.__dict__.get("create_transaction")
    inherited = cls.create_transaction
    fields = settings.gas.transaction_fields()

    def create_transaction(self: Any, **kwargs: Any) -> Any:
        if fields and not _FEE_KEYS & kwargs.keys():
            kwargs = {**fields, **kwargs}
        if settings.confirmations and kwargs.get("required_confirmations") is None:
            kwargs["required_confirmations"] = settings.confirmations
        return inherited(self, **kwargs)

    cls.create_transaction = create_transaction
    try:
        yield
    finally:
        if original is None:
            del cls.create_transaction
        else:
            cls.create_transaction = original
        _ACTIVE.reset(token)
