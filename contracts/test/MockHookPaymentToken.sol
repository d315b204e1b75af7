// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {MockPaymentToken} from "./MockPaymentToken.sol";

/// @notice Receiver hook of MockHookPaymentToken (in the manner of ERC-777 / ERC-1363 receivers).
interface IPaymentReceivedHook {
    function onPaymentReceived(address from, uint256 amount) external;
}

/// @title MockHookPaymentToken
/// @notice Test payment token that calls opted-in recipients back after every transfer to them, so tests can
///         re-enter the payment agent from inside its own payment.
contract MockHookPaymentToken is MockPaymentToken {
    mapping(address recipient => bool) public hooked;

    constructor() MockPaymentToken("Hook Yen", "HJPY", 0) {}

    /// @notice Makes transfers to `recipient` call its `onPaymentReceived` (unrestricted: a test token).
    function setHooked(address recipient, bool on) external {
        hooked[recipient] = on;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (from != address(0) && hooked[to]) IPaymentReceivedHook(to).onPaymentReceived(from, value);
    }
}
