// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IPaymentAgent} from "../interfaces/IPaymentAgent.sol";
import {IPaymentReceivedHook} from "./MockHookPaymentToken.sol";

/// @title MockReentrantHolder
/// @notice Test bond holder that, when paid, claims the same period again and records how that ended.
contract MockReentrantHolder is IPaymentReceivedHook {
    IPaymentAgent public agent;
    uint256 public period;
    uint256 public hookCalls;
    bytes public reentryError; // revert data of the re-entrant claim (empty if it succeeded)
    bool public reentrySucceeded;

    /// @notice Claims `period_` from `agent_` for this contract.
    function claim(IPaymentAgent agent_, uint256 period_) external {
        (agent, period) = (agent_, period_);
        agent_.claim(period_);
    }

    /// @inheritdoc IPaymentReceivedHook
    function onPaymentReceived(address, uint256) external {
        ++hookCalls;
        if (hookCalls > 1) return;
        try agent.claim(period) {
            reentrySucceeded = true;
        } catch (bytes memory reason) {
            reentryError = reason;
        }
    }
}
