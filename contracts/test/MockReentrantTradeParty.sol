// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {MockContractWallet} from "./MockContractWallet.sol";
import {IPaymentReceivedHook} from "./MockHookPaymentToken.sol";

/// @title MockReentrantTradeParty
/// @notice A contract-wallet trade party that, when a hook payment token pays it, calls `target` with a stored
///         call (e.g. the settlement contract's `cancel` or `settle` of the trade being settled) and records how that
///         ended, so tests can re-enter the settlement from inside its own cash leg.
contract MockReentrantTradeParty is MockContractWallet, IPaymentReceivedHook {
    address public target;
    bytes public reentryCall;
    bytes public reentryError; // revert data of the re-entrant call (empty if it succeeded)
    bool public reentrySucceeded;
    uint256 public hookCalls;

    constructor(address owner_) MockContractWallet(owner_) {}

    /// @notice Sets the call made from inside the next payment received (unrestricted: a test contract).
    function setReentry(address target_, bytes calldata call_) external {
        (target, reentryCall) = (target_, call_);
    }

    /// @inheritdoc IPaymentReceivedHook
    function onPaymentReceived(address, uint256) external {
        ++hookCalls;
        if (target == address(0)) return;
        (bool ok, bytes memory ret) = target.call(reentryCall);
        reentrySucceeded = ok;
        if (!ok) reentryError = ret;
    }
}
