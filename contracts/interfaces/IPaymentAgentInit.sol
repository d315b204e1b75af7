// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IPaymentAgentInit
/// @notice The one function BondFactory calls on a freshly cloned payment agent.
interface IPaymentAgentInit {
    /// @notice The clone's immutable args (`token`, `registry`) differ from the addresses given to `initialize`.
    error CloneArgsMismatch(address token, address registry);

    /// @notice Initializes a payment-agent clone for `token`; `params` is agent-specific ABI-encoded data.
    /// @dev Called once by the factory in the same transaction as the token deployment, after the token has been
    ///      initialized (the agent already holds the token's PAYER role). The factory clones the agent with the
    ///      immutable args `abi.encodePacked(token, registry)`, so a payment reads neither from storage.
    function initialize(address token, address registry, address admin, bytes calldata params) external;
}
