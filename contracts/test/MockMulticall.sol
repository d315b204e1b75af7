// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title MockMulticall
/// @notice Test-only state reader: runs many view calls in one `eth_call`, so the model-based tests
///         (tests/stateful) compare the whole state of a series after every step without one round trip per value.
///         Never deployed outside tests.
contract MockMulticall {
    /// @notice Runs `data[i]` as a static call on `targets[i]` for every i.
    /// @dev The result is packed for a cheap decoder: per call one word `ok << 255 | length`, then the return data
    ///      (or the revert data) padded to whole words (the padding bytes are unspecified).
    /// @return out the packed results, in call order
    function readAll(address[] calldata targets, bytes[] calldata data) external view returns (bytes memory out) {
        uint256 n = targets.length;
        bytes[] memory results = new bytes[](n);
        bool[] memory oks = new bool[](n);
        uint256 size;
        for (uint256 i; i < n; ++i) {
            (oks[i], results[i]) = targets[i].staticcall(data[i]);
            size += 32 + ((results[i].length + 31) & ~uint256(31));
        }
        out = new bytes(size);
        uint256 at;
        for (uint256 i; i < n; ++i) {
            bytes memory r = results[i];
            uint256 len = r.length;
            uint256 header = len | (oks[i] ? 1 << 255 : 0);
            assembly ("memory-safe") {
                let dst := add(add(out, 32), at)
                mstore(dst, header)
                for { let k := 0 } lt(k, len) { k := add(k, 32) } { mstore(add(dst, add(32, k)), mload(add(r, add(32, k)))) }
            }
            at += 32 + ((len + 31) & ~uint256(31));
        }
    }
}
