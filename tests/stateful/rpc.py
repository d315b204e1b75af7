"""A thin, fast JSON-RPC layer over the Ape-managed anvil for the model-based tests.

Ape's transaction machinery (gas estimation, receipts, traces) costs tens of milliseconds per call; thousands
of generated steps need a few milliseconds each. Every transaction here is first run as an `eth_call` on the
pending block (same code, same timestamp as the block it will be mined in), so a refusal is decoded from its
revert data without mining anything, and an accepted one is sent with a fixed gas limit from an unlocked dev
account. Reads for the invariant go through one `MockMulticall.readAll` call.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

ZERO = "0x" + "00" * 20
GAS = 8_000_000


class RpcError(RuntimeError):
    """The node answered a request with an error that is not a contract revert."""


@dataclass(frozen=True)
class Fn:
    """One contract function: selector, argument types and return types."""

    name: str
    args: tuple[str, ...] = ()
    returns: tuple[str, ...] = ()

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.args)})"

    @cached_property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]

    def data(self, *values: Any) -> bytes:
        return self.selector + encode(list(self.args), list(values))

    def decode(self, raw: bytes) -> Any:
        out = decode(list(self.returns), raw)
        return out[0] if len(out) == 1 else out


@dataclass
class Failure:
    """A decoded revert: the custom error's name and arguments (or Error(string) / Panic(uint256))."""

    name: str
    args: tuple[Any, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}{self.args}"


@dataclass
class Outcome:
    """What a transaction did: mined (ok) with its logs, or refused with a decoded error."""

    ok: bool
    failure: Failure | None = None
    logs: list[dict[str, Any]] = field(default_factory=list)
    block: int = 0


class ErrorDecoder:
    """Selector -> (name, argument types) over every error of the given ABIs."""

    def __init__(self, abis: Iterable[Sequence[Any]]) -> None:
        self._errors: dict[bytes, tuple[str, list[str]]] = {
            bytes.fromhex("08c379a0"): ("Error", ["string"]),
            bytes.fromhex("4e487b71"): ("Panic", ["uint256"]),
        }
        for abi in abis:
            for entry in abi:
                if getattr(entry, "type", None) != "error":
                    continue
                types = [i.canonical_type for i in entry.inputs]
                self._errors[keccak(text=f"{entry.name}({','.join(types)})")[:4]] = (entry.name, types)

    def decode(self, data: bytes) -> Failure:
        if len(data) < 4:
            return Failure("EmptyRevert")
        name, types = self._errors.get(data[:4], ("Unknown0x" + data[:4].hex(), []))
        try:
            args = tuple(decode(types, data[4:])) if types else ()
        except Exception:  # revert data that does not match the declared types
            args = (data.hex(),)
        return Failure(name, args)


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


class _Connection:
    """One persistent HTTP/1.1 connection to the node: each request is a single write (no Nagle delay between
    headers and body) and no middleware; web3's provider costs about as much again per request."""

    def __init__(self, uri: str) -> None:
        url = urlsplit(uri)
        self._host, self._port, self._path = url.hostname or "127.0.0.1", url.port or 80, url.path or "/"
        self._conn: http.client.HTTPConnection | None = None
        self._id = 0

    def _connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection(self._host, self._port, timeout=60)
        conn.connect()
        assert conn.sock is not None
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def __call__(self, method: str, params: list[Any]) -> dict[str, Any]:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}).encode()
        for attempt in (0, 1):
            if self._conn is None:
                self._conn = self._connect()
            try:
                self._conn.request("POST", self._path, body, {"Content-Type": "application/json"})
                return json.loads(self._conn.getresponse().read())
            except (ConnectionError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


class Rpc:
    """JSON-RPC requests straight to the node behind Ape's provider."""

    def __init__(self, web3: Any, errors: ErrorDecoder) -> None:
        uri = getattr(web3.provider, "endpoint_uri", None)
        self._request = (
            _Connection(uri) if isinstance(uri, str) and uri.startswith("http") else web3.provider.make_request
        )
        self.errors = errors

    def request(self, method: str, params: list[Any]) -> Any:
        response = self._request(method, params)
        if "error" in response:
            raise RpcError(f"{method}: {response['error']}")
        return response["result"]

    # ------------------------------------------------------------------ chain control

    def latest_timestamp(self) -> int:
        return int(self.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def snapshot(self) -> str:
        return self.request("evm_snapshot", [])

    def revert(self, snapshot_id: str) -> None:
        if not self.request("evm_revert", [snapshot_id]):
            raise RpcError(f"evm_revert({snapshot_id}) refused")

    def mine_at(self, timestamp: int) -> None:
        """Mines one empty block at `timestamp` (later blocks follow one second apart)."""
        self.request("evm_setNextBlockTimestamp", [timestamp])
        self.request("evm_mine", [])

    def set_interval(self, seconds: int | None) -> None:
        """Every new block `seconds` after the previous one (None: back to wall-clock time)."""
        if seconds is None:
            self.request("anvil_removeBlockTimestampInterval", [])
        else:
            self.request("anvil_setBlockTimestampInterval", [seconds])

    # ------------------------------------------------------------------ calls and transactions

    def call(self, to: str, data: bytes, sender: str | None = None, block: str = "latest") -> tuple[bool, bytes]:
        """eth_call: (True, return data) or (False, revert data)."""
        tx: dict[str, Any] = {"to": to, "data": _hex(data), "gas": hex(GAS)}
        if sender is not None:
            tx["from"] = sender
        response = self._request("eth_call", [tx, block])
        if "error" in response:
            error = response["error"]
            raw = error.get("data")
            if isinstance(raw, dict):  # some nodes nest the data
                raw = raw.get("data")
            if not isinstance(raw, str):
                if "revert" not in str(error.get("message", "")).lower():
                    raise RpcError(f"eth_call: {error}")
                raw = "0x"
            return False, bytes.fromhex(raw[2:])
        return True, bytes.fromhex(response["result"][2:])

    def view(self, to: str, fn: Fn, *args: Any, block: str = "latest") -> Any:
        ok, raw = self.call(to, fn.data(*args), block=block)
        if not ok:
            raise RpcError(f"{fn.signature} reverted: {self.errors.decode(raw)}")
        return fn.decode(raw)

    def transact(self, sender: str, to: str, data: bytes) -> Outcome:
        """Dry-runs the transaction on the pending block; mines it only when that succeeds."""
        ok, raw = self.call(to, data, sender=sender, block="pending")
        if not ok:
            return Outcome(False, self.errors.decode(raw))
        tx = {"from": sender, "to": to, "data": _hex(data), "gas": hex(GAS), "gasPrice": "0x0"}
        tx_hash = self.request("eth_sendTransaction", [tx])
        receipt = self.request("eth_getTransactionReceipt", [tx_hash])
        polls = 0
        while receipt is None:  # anvil mines right after answering eth_sendTransaction
            polls += 1
            if polls > 2_000:
                raise RpcError(f"transaction not mined: {tx_hash}")
            time.sleep(0.0005)
            receipt = self.request("eth_getTransactionReceipt", [tx_hash])
        if int(receipt["status"], 16) != 1:
            raise RpcError(f"transaction failed after its dry run succeeded: {tx_hash}")
        return Outcome(True, None, receipt["logs"], int(receipt["blockNumber"], 16))


READ_ALL = Fn("readAll", ("address[]", "bytes[]"), ("bytes",))


class Reader:
    """Many view calls in one eth_call through MockMulticall; results decoded per call."""

    def __init__(self, rpc: Rpc, multicall: str) -> None:
        self.rpc = rpc
        self.multicall = multicall

    def encode(self, calls: Sequence[tuple[str, bytes]]) -> bytes:
        return READ_ALL.data([c[0] for c in calls], [c[1] for c in calls])

    def read(self, calls: Sequence[tuple[str, bytes]], data: bytes | None = None) -> list[tuple[bool, bytes]]:
        """The results of `calls` (`data`: their readAll calldata, when the caller keeps it)."""
        ok, raw = self.rpc.call(self.multicall, data if data is not None else self.encode(calls))
        if not ok:
            raise RpcError(f"readAll reverted: {self.rpc.errors.decode(raw)}")
        packed = READ_ALL.decode(raw)
        results: list[tuple[bool, bytes]] = []
        at = 0
        for _ in calls:
            header = int.from_bytes(packed[at : at + 32], "big")
            length = header & ((1 << 255) - 1)
            results.append((header >> 255 == 1, packed[at + 32 : at + 32 + length]))
            at += 32 + (length + 31) // 32 * 32
        return results


def word(raw: bytes, index: int = 0) -> int:
    """The `index`-th 32-byte word of ABI-encoded return data as an unsigned integer."""
    return int.from_bytes(raw[32 * index : 32 * index + 32], "big")


def address_word(raw: bytes, index: int = 0) -> str:
    return to_checksum_address(raw[32 * index + 12 : 32 * index + 32])
