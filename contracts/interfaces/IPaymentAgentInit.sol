// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IPaymentAgentInit
/// @notice The one function BondFactory calls on a freshly cloned payment agent.
interface IPaymentAgentInit {
    /// @notice The clone's immutable args (`token`, `registry`, `paymentToken`) differ from the addresses given
    ///         to `initialize` and in its params.
    error CloneArgsMismatch(address token, address registry, address paymentToken);

    /// @notice Initializes a payment-agent clone for `token`; `params` is agent-specific ABI-encoded data.
    /// @dev Called once by the factory in the same transaction as the token deployment, after the token has been
    ///      initialized (the agent already holds the token's PAYER role). The factory clones the agent with the
    ///      immutable args `abi.encodePacked(token, registry, paymentToken)`, `paymentToken` being the first
    ///      field of the params' ABI head (bytes 32..64 of `params`, zero when shorter), so a payment reads none
    ///      of them from storage.
    function initialize(address token, address registry, address admin, bytes calldata params) external;
}
