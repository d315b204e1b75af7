// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IPaymentAgentInit
/// @notice One-time initializer the BondFactory calls on a fresh payment-agent clone.
interface IPaymentAgentInit {
    /// @notice Wires the clone to its series token and the shared registry and stores the schedule.
    /// @param token the series' bond token
    /// @param registry the shared investor registry
    /// @param admin the account receiving the admin role
    /// @param params agent-specific parameters (ABI-encoded; layout defined by the implementation)
    function initialize(address token, address registry, address admin, bytes calldata params) external;
}
