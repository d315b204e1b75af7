// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IPaymentReceivedHook} from "./MockHookPaymentToken.sol";

/// @title MockReentrantInvestor
/// @notice Test investor wallet (a contract) that acts through `execute` and, when a hook payment token pays it,
///         makes one armed call back (e.g. into the subscription book that is paying it) and records how it ended.
contract MockReentrantInvestor is IPaymentReceivedHook {
    address public immutable owner;
    address public target;
    bytes public reentry;
    uint256 public hookCalls;
    bool public reentrySucceeded;
    bytes public reentryError; // revert data of the call back (empty if it succeeded)

    error NotOwner(address caller);

    constructor(address owner_) {
        owner = owner_;
    }

    function execute(address to, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        (bool ok, bytes memory ret) = to.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    /// Arms the call back made on the next payment received.
    function arm(address target_, bytes calldata call) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        (target, reentry) = (target_, call);
    }

    function onPaymentReceived(address, uint256) external {
        ++hookCalls;
        if (target == address(0)) return;
        address to = target;
        target = address(0); // once
        (bool ok, bytes memory ret) = to.call(reentry);
        reentrySucceeded = ok;
        reentryError = ok ? bytes("") : ret;
    }
}
