"""Reading chain state in bulk: many view calls and event logs in few round trips, straight through web3.

A run over 10,000 holders reads several values per holder (units at the record date, settled flag, registry
record, frozen flag). One Ape call per value costs a round trip plus Ape's conversion and network look-ups;
here calls are ABI-encoded once, and each chunk of at most `chunk_size` calls is run by `eth_call`s of the
creation code of `BatchCallReader` (contracts/tools: its constructor makes the calls and returns every result;
nothing is deployed), as few as EIP-3860's initcode limit allows, in one batched request, all at one pinned
block. The results are decoded into plain values: ints, bools,
checksummed addresses, `HexBytes` for fixed bytes, and named tuples for structs (so `record.identity` reads as
with Ape). A node that refuses such a call gets the calls as batched JSON-RPC `eth_call` requests instead (one
HTTP request per chunk), and a provider that cannot batch gets them one request at a time.

A call that reverts fails the whole read with `BulkCallError`, which names the call (its position, function,
target and arguments) and carries the revert data (`.data`), so `munibond.chain.refusals` words the custom error.

Event logs come from raw `eth_getLogs` requests over block ranges of at most `LOG_BLOCK_RANGE` blocks.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, partial
from typing import Any

from eth_abi import decode, encode
from eth_utils import keccak
from eth_utils import to_checksum_address as _to_checksum_address
from hexbytes import HexBytes

from munibond.addresses import checksum_address

DEFAULT_CHUNK_SIZE = 500
# Nodes apply the creation limits to eth_call too: EIP-3860's on the creation code (code and constructor
# arguments) and EIP-170's on the code a creation returns (here: every call's result).
MAX_INITCODE_BYTES = 49_152
MAX_RETURNED_BYTES = 24_576
UNKNOWN_RESULT_WORDS = 8  # room kept for a result of dynamic size
LOG_BLOCK_RANGE = 10_000


@cache
def to_checksum_address(address: str) -> str:
    """EIP-55 form of a hex address, remembered: a run sees the same few thousand holders in every read."""
    if len(address) == 42 and address[:2] in ("0x", "0X"):
        return checksum_address(address[2:])
    return _to_checksum_address(address)


@cache
def _batch_call_code() -> str:
    """The creation code of BatchCallReader (hex, 0x-prefixed), from the shipped artifacts."""
    from munibond.abi_export import load_artifact

    return str(load_artifact("BatchCallReader")["bytecode"])


def _canonical(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_canonical(c) for c in param["components"]) + ")" + kind[len("tuple") :]
    return kind


def _plain(param: dict[str, Any], value: Any) -> Any:
    """An `eth_abi`-decoded value as callers use it: checksummed addresses, HexBytes, named tuples for structs."""
    kind = str(param["type"])
    if kind.endswith("]"):
        inner = dict(param, type=kind[: kind.rindex("[")])
        return [_plain(inner, item) for item in value]
    if kind == "tuple":
        return _record_type(param)(*(_plain(c, v) for c, v in zip(param["components"], value, strict=True)))
    if kind == "address":
        return to_checksum_address(value)
    if kind.startswith("bytes"):
        return HexBytes(value)
    return value


def _record_type(param: dict[str, Any]) -> Any:
    names = tuple(c.get("name") or f"field{i}" for i, c in enumerate(param["components"]))
    name = re.sub(r"\W", "", str(param.get("internalType", "")).split(".")[-1].split("[")[0])
    return _named(name if name.isidentifier() else "Record", names)


@cache
def _named(name: str, fields: tuple[str, ...]) -> Any:
    return namedtuple(name, fields)  # type: ignore[misc]


def _is_word(kind: str) -> bool:
    """A type encoded in one 32-byte word in place (no arrays, no dynamic data)."""
    return kind in ("address", "bool", "bytes32") or (kind.startswith("uint") and kind[4:].isdigit())


def _leaves(params: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parameters with tuples flattened into their components (a static struct is its words in order)."""
    leaves: list[dict[str, Any]] = []
    for param in params:
        if param["type"] == "tuple":
            leaves += _leaves(param["components"])
        else:
            leaves.append(param)
    return leaves


def _word(kind: str, value: Any) -> bytes:
    if kind == "address":
        text = str(value)
        raw = bytes.fromhex(text[2:] if text[:2] in ("0x", "0X") else text)
        if len(raw) != 20:
            raise ValueError(f"not an address: {value!r}")
        return bytes(12) + raw
    if kind == "bytes32":
        raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
        if len(raw) != 32:
            raise ValueError(f"not 32 bytes: {value!r}")
        return raw
    number = int(value)
    bits = 8 if kind == "bool" else int(kind[4:])
    if number < 0 or number >= 1 << bits or (kind == "bool" and number > 1):
        raise ValueError(f"{value!r} does not fit {kind}")
    return number.to_bytes(32, "big")


def _from_words(param: dict[str, Any], data: bytes, words: Iterator[int]) -> Any:
    """One output read from the next word(s) of static return data, as `_plain` gives it."""
    if param["type"] == "tuple":
        fields = [_from_words(c, data, words) for c in param["components"]]
        return _record_type(param)(*fields)
    at = next(words)
    word = data[at : at + 32]
    kind = param["type"]
    if kind == "address":
        return to_checksum_address("0x" + word[12:].hex())
    if kind == "bytes32":
        return HexBytes(word)
    number = int.from_bytes(word, "big")
    return bool(number) if kind == "bool" else number


def _encodable(kind: str, value: Any) -> Any:
    """Addresses as their 20 bytes (eth_abi validates hex strings slowly), in arrays too."""
    if kind == "address" and isinstance(value, str):
        return bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)
    if kind == "address[]":
        return [_encodable("address", v) for v in value]
    return value


def _abi_dict(item: Any) -> dict[str, Any]:
    """An ABI entry as a JSON dict, from an `ethpm_types` ABI object or a dict."""
    if isinstance(item, dict):
        return item
    return dict(item.model_dump(mode="json", by_alias=True))


@dataclass(frozen=True)
class Function:
    """One function of a contract ABI, encoded and decoded without Ape."""

    abi: dict[str, Any]

    @classmethod
    def of(cls, contract: Any, name: str, arity: int | None = None) -> Function:
        """The function `name` of an Ape contract instance (its contract type's ABI); `arity` picks an overload."""
        for item in contract.contract_type.abi:
            entry = _abi_dict(item)
            if entry.get("type") != "function" or entry.get("name") != name:
                continue
            if arity is None or len(entry.get("inputs", [])) == arity:
                return cls(entry)
        raise AttributeError(f"{contract.contract_type.name} has no function {name}")

    @cached_property
    def input_types(self) -> list[str]:
        return [_canonical(p) for p in self.abi.get("inputs", [])]

    @cached_property
    def output_types(self) -> list[str]:
        return [_canonical(p) for p in self.abi.get("outputs", [])]

    @cached_property
    def signature(self) -> str:
        return f"{self.abi['name']}({','.join(self.input_types)})"

    @cached_property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]

    @cached_property
    def _static_inputs(self) -> bool:
        return all(_is_word(kind) for kind in self.input_types)

    @cached_property
    def _static_outputs(self) -> bool:
        return all(_is_word(_canonical(leaf)) for leaf in _leaves(self.abi.get("outputs", [])))

    @cached_property
    def result_words(self) -> int | None:
        """The 32-byte words of the return data when every output is one word; None when its size varies."""
        return len(_leaves(self.abi.get("outputs", []))) if self._static_outputs else None

    def encode(self, args: Sequence[Any]) -> bytes:
        if self._static_inputs:  # one word per argument: built directly (eth_abi's checks cost more than the call)
            return self.selector + b"".join(
                _word(kind, value) for kind, value in zip(self.input_types, args, strict=True)
            )
        values = [_encodable(kind, value) for kind, value in zip(self.input_types, args, strict=True)]
        return self.selector + encode(self.input_types, values)

    def decode(self, data: bytes) -> Any:
        """The return value: one output as itself, several as a tuple."""
        outputs = self.abi.get("outputs", [])
        if self._static_outputs and len(data) >= 32 * len(_leaves(outputs)):
            words = iter(range(0, len(data), 32))
            plain = tuple(_from_words(p, data, words) for p in outputs)
        else:
            values = decode(self.output_types, data)
            plain = tuple(_plain(p, v) for p, v in zip(outputs, values, strict=True))
        return plain[0] if len(plain) == 1 else plain


@dataclass(frozen=True)
class Call:
    target: str
    function: Function
    args: tuple[Any, ...] = ()


class BulkCallError(RuntimeError):
    """A call of a bulk read reverted (or the node refused it): which one, and the revert data if any."""

    def __init__(self, index: int, call: Call, message: str, data: bytes) -> None:
        self.index = index
        self.call = call
        self.data = data
        args = ", ".join(str(a) for a in call.args)
        reason = message
        if data:
            from munibond.chain.refusals import decode_revert, format_error

            decoded = decode_revert(data)
            reason = format_error(*decoded) if decoded else f"{message} (revert data 0x{data.hex()})"
        super().__init__(f"read {index} of the batch, {call.function.abi['name']}({args}) on {call.target}: {reason}")


def _creation_groups(chunk: Sequence[Call], code_size: int) -> list[list[tuple[Call, bytes]]]:
    """The calls of `chunk` with their calldata, in order, split so that each group's creation code stays within
    both creation limits: per call, an address word and the calldata's offset, length and padded bytes go in; a
    success flag and the result's offset, length and padded bytes come out."""
    groups: list[list[tuple[Call, bytes]]] = [[]]
    sent = returned = 0
    for call in chunk:
        data = call.function.encode(call.args)
        words = call.function.result_words or UNKNOWN_RESULT_WORDS
        more_sent, more_returned = 96 + -(-len(data) // 32) * 32, 96 + 32 * words
        too_long = code_size + 128 + sent + more_sent > MAX_INITCODE_BYTES
        too_much_back = 128 + returned + more_returned > MAX_RETURNED_BYTES
        if groups[-1] and (too_long or too_much_back):
            groups.append([])
            sent = returned = 0
        groups[-1].append((call, data))
        sent, returned = sent + more_sent, returned + more_returned
    return groups


def _reader_arguments(group: Sequence[tuple[Call, bytes]]) -> bytes:
    """`abi.encode(address[] targets, bytes[] calls)` of a group, written out (eth_abi's generic encoder costs
    more than the node's work for thousands of calls): two head offsets, the targets array, then the calls array
    (its length, an offset per element relative to the first offset word, and each element's length and bytes
    padded to whole words)."""
    count = len(group)
    word = partial(int.to_bytes, length=32, byteorder="big")
    targets = word(count) + b"".join(bytes(12) + bytes.fromhex(call.target[2:]) for call, _ in group)
    offsets, bodies, at = [], [], 32 * count
    for _, data in group:
        offsets.append(word(at))
        body = word(len(data)) + data + bytes(-len(data) % 32)
        bodies.append(body)
        at += len(body)
    calls = word(count) + b"".join(offsets) + b"".join(bodies)
    return word(64) + word(64 + len(targets)) + targets + calls


def _reader_results(result: bytes) -> list[tuple[bool, bytes]]:
    """The (succeeded, returned) pairs of `abi.encode(bool[], bytes[])`, read in place (see `_reader_arguments`)."""

    def number(at: int) -> int:
        return int.from_bytes(result[at : at + 32], "big")

    flags_at, data_at = number(0), number(32)
    count = number(flags_at)
    if number(data_at) != count:
        raise ValueError(f"BatchCallReader returned {count} flags and {number(data_at)} results")
    pairs = []
    for i in range(count):
        element = data_at + 32 + number(data_at + 32 + 32 * i)
        pairs.append((number(flags_at + 32 + 32 * i) != 0, result[element + 32 : element + 32 + number(element)]))
    return pairs


def _hex_data(value: Any) -> bytes:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return b""
    return b""


class BulkReader:
    """Runs view calls in batched JSON-RPC requests against `web3`'s provider, all at one block."""

    def __init__(self, web3: Any, *, chunk_size: int = DEFAULT_CHUNK_SIZE, block: int | str | None = None) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        self.web3 = web3
        self.chunk_size = chunk_size
        self.block = hex(block) if isinstance(block, int) else block
        self.requests = 0  # HTTP requests (or single calls) sent, for tests and profiles
        self.by_creation_code = True  # chunks read through BatchCallReader's creation code (until the node refuses it)
        self.creation_code_accepted = False  # the node has run BatchCallReader's creation code for this reader

    @classmethod
    def pinned(cls, web3: Any, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> BulkReader:
        """A reader at the current head: every read sees the same state."""
        return cls(web3, chunk_size=chunk_size, block=int(_result(web3.provider.make_request("eth_blockNumber", []))))

    def read(self, calls: Sequence[Call]) -> list[Any]:
        """The decoded return value of every call, in order."""
        block = self.block or "latest"
        results: list[Any] = []
        for start in range(0, len(calls), self.chunk_size):
            chunk = calls[start : start + self.chunk_size]
            outcomes = self._by_creation_code(chunk, block) if self.by_creation_code else self._in_a_batch(chunk, block)
            for offset, (call, (succeeded, data, message)) in enumerate(zip(chunk, outcomes, strict=True)):
                if not succeeded:
                    raise BulkCallError(start + offset, call, message, data)
                results.append(call.function.decode(data))
        return results

    def _by_creation_code(self, chunk: Sequence[Call], block: str) -> list[tuple[bool, bytes, str]]:
        """(succeeded, return or revert data, message) of each call, from `eth_call`s of BatchCallReader's creation
        code sent in one batched request. A group the node refuses is read by batched calls instead; when the
        node has never accepted one, the reader stops trying."""
        code = bytes.fromhex(_batch_call_code()[2:])
        groups = _creation_groups(chunk, len(code))
        requests = [("eth_call", [{"data": "0x" + (code + _reader_arguments(group)).hex()}, block]) for group in groups]
        outcomes: list[tuple[bool, bytes, str]] = []
        for group, response in zip(groups, self._send(requests), strict=True):
            if "error" in response or not isinstance(response.get("result"), str):
                self.by_creation_code = self.creation_code_accepted
                outcomes += self._in_a_batch([call for call, _ in group], block)
                continue
            self.creation_code_accepted = True
            outcomes += [
                (ok, data, "" if ok else "execution reverted")
                for ok, data in _reader_results(bytes.fromhex(response["result"][2:]))
            ]
        return outcomes

    def _in_a_batch(self, chunk: Sequence[Call], block: str) -> list[tuple[bool, bytes, str]]:
        requests = [
            ("eth_call", [{"to": c.target, "data": "0x" + c.function.encode(c.args).hex()}, block]) for c in chunk
        ]
        outcomes = []
        for response in self._send(requests):
            if "error" in response or response.get("result") is None:
                error = response.get("error") or {}
                outcomes.append((False, _hex_data(error.get("data")), str(error.get("message", "no result"))))
            else:
                outcomes.append((True, bytes.fromhex(str(response["result"])[2:]), ""))
        return outcomes

    def map(self, contract: Any, name: str, args: Sequence[tuple[Any, ...]]) -> list[Any]:
        """`contract.name(*a)` for every `a` in `args`."""
        function = Function.of(contract, name, len(args[0]) if args else None)
        target = str(contract.address)
        return self.read([Call(target, function, tuple(a)) for a in args])

    def _send(self, requests: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        provider = self.web3.provider
        self.requests += 1
        batch = getattr(provider, "make_batch_request", None)
        if batch is not None:
            responses = batch(requests)
            if isinstance(responses, list) and len(responses) == len(requests):
                return [dict(r) for r in responses]
            if isinstance(responses, dict) and "error" in responses:
                raise RuntimeError(f"the node refused a batch of {len(requests)} calls: {responses['error']}")
        self.requests += len(requests) - 1
        return [dict(provider.make_request(method, params)) for method, params in requests]


def _result(response: Any) -> Any:
    if "error" in response:
        raise RuntimeError(f"the node refused the request: {response['error']}")
    return int(response["result"], 16) if isinstance(response["result"], str) else response["result"]


def raw_logs(web3: Any, address: str, topic0: bytes, start_block: int, end_block: int | None = None) -> Iterator[dict]:
    """Every raw log (JSON dict: hex `topics`, `data`, `blockNumber`, ...) of `address` with first topic `topic0`
    from `start_block` to `end_block` (default: the head), in chain order."""
    provider = web3.provider
    if end_block is None:
        end_block = int(_result(provider.make_request("eth_blockNumber", [])))
    for low in range(start_block, end_block + 1, LOG_BLOCK_RANGE):
        high = min(low + LOG_BLOCK_RANGE - 1, end_block)
        query = {"address": address, "topics": ["0x" + topic0.hex()], "fromBlock": hex(low), "toBlock": hex(high)}
        response = provider.make_request("eth_getLogs", [query])
        if "error" in response:
            raise RuntimeError(f"the node refused eth_getLogs for blocks {low}-{high}: {response['error']}")
        yield from response["result"]


TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")


def transfers(web3: Any, token: str, start_block: int) -> Iterator[tuple[str, str, int]]:
    """(from, to, value) of every ERC-20 style `Transfer` of `token` since `start_block`, in order, addresses
    checksummed."""
    for log in raw_logs(web3, token, TRANSFER_TOPIC, start_block):
        topics = log["topics"]
        yield (
            to_checksum_address("0x" + topics[1][-40:].lower()),
            to_checksum_address("0x" + topics[2][-40:].lower()),
            int(log["data"], 16),
        )


@dataclass(frozen=True)
class Event:
    """The events of one name in a contract ABI (one per signature), decoded from raw logs without Ape.

    Several signatures of one name happen when Ape merged a contract type it cached for the address (from an
    earlier deployment there) with the current one: each log is decoded by the signature its first topic names."""

    abis: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, contract: Any, name: str) -> Event:
        found = [
            entry
            for entry in map(_abi_dict, contract.contract_type.abi)
            if entry.get("type") == "event" and entry.get("name") == name
        ]
        if not found:
            raise AttributeError(f"{contract.contract_type.name} has no event {name}")
        return cls(tuple(found))

    @cached_property
    def by_topic(self) -> dict[bytes, dict[str, Any]]:
        topics = {}
        for abi in self.abis:
            types = ",".join(_canonical(p) for p in abi["inputs"])
            topics[keccak(text=f"{abi['name']}({types})")] = abi
        return topics

    def decode(self, log: Any) -> dict[str, Any]:
        """The arguments by name of one log of this event (raw JSON or web3-formatted)."""
        topics = [_bytes(t) for t in log["topics"]]
        abi = self.by_topic[topics[0]]
        indexed = [p for p in abi["inputs"] if p.get("indexed")]
        plain = [p for p in abi["inputs"] if not p.get("indexed")]
        values: dict[str, Any] = {}
        for param, topic in zip(indexed, topics[1:], strict=True):
            if _is_word(_canonical(param)):
                values[param["name"]] = _from_words(param, topic, iter([0]))
            else:
                (value,) = decode([_canonical(param)], topic)
                values[param["name"]] = _plain(param, value)
        data = _bytes(log["data"])
        if all(_is_word(_canonical(p)) for p in plain) and len(data) == 32 * len(plain):
            words = iter(range(0, len(data), 32))  # one word per field, read in place (eth_abi costs more)
            values.update((p["name"], _from_words(p, data, words)) for p in plain)
            return values
        for param, value in zip(plain, decode([_canonical(p) for p in plain], data), strict=True):
            values[param["name"]] = _plain(param, value)
        return values

    def logs_in(self, logs: Sequence[Any], address: str) -> list[dict[str, Any]]:
        """The decoded logs of this event emitted by `address`, in order."""
        wanted = address.lower()
        return [
            self.decode(log)
            for log in logs
            if str(log["address"]).lower() == wanted and log["topics"] and _bytes(log["topics"][0]) in self.by_topic
        ]


def _bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value[2:] if value.startswith("0x") else value)
    return bytes(value)
