// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IPaymentAgentInit
/// @notice The one function BondFactory calls to set up a series' payments.
interface IPaymentAgentInit {
    /// @notice The series' own address, its immutable registry or payment token differ from the addresses given
    ///         to `initialize` and in its params.
    error CloneArgsMismatch(address token, address registry, address paymentToken);

    /// @notice The series' payments are already initialized, or its token did not name itself payment agent.
    error PaymentsNotInitializable();

    /// @notice Initializes the payments of series `token` (this address); `params` is agent-specific ABI data.
    /// @dev Called once by the factory in the transaction that deploys the series, after the token has been
    ///      initialized with itself as payment agent (the token then accepts the redemption burn and the record
    ///      times from its own address). The payment token is an immutable arg of the series, so a payment reads no
    ///      configuration slot; it is the first field of the params' ABI head (bytes 32..64 of `params`).
    function initialize(address token, address registry, address admin, bytes calldata params) external;
}
