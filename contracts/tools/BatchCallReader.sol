// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title BatchCallReader
/// @notice Many view calls in one `eth_call`, on any node, without deploying anything: the operator tools send
///         this contract's creation code with the calls as constructor arguments and no `to` address. The
///         constructor makes each static call and returns `abi.encode(bool[] succeeded, bytes[] returned)` as the
///         creation's return data, which `eth_call` hands back; nothing is ever stored or deployed.
/// @dev A call that reverts does not stop the others: its flag is false and its revert data is returned, so the
///      caller can name the call and decode its custom error. All calls see the same block.
contract BatchCallReader {
    /// @notice The calls' targets and calldata differ in length.
    error LengthMismatch(uint256 targets, uint256 calls);

    constructor(address[] memory targets, bytes[] memory calls) {
        if (targets.length != calls.length) revert LengthMismatch(targets.length, calls.length);
        bool[] memory succeeded = new bool[](targets.length);
        bytes[] memory returned = new bytes[](targets.length);
        for (uint256 i; i < targets.length; ++i) {
            (succeeded[i], returned[i]) = targets[i].staticcall(calls[i]);
        }
        bytes memory result = abi.encode(succeeded, returned);
        assembly {
            return(add(result, 32), mload(result))
        }
    }
}
