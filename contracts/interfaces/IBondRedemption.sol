// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IBondRedemption
/// @notice Token surface the payment agent relies on to retire units when it pays principal.
/// @dev Served by the BondToken: only the series itself (its payment code, calling its own address) may call
///      `redeem`; it burns through the token's single balance hook and burns frozen units too.
interface IBondRedemption {
    /// @notice Burns `amount` units held by `holder` because their principal has been paid (or escrowed).
    function redeem(address holder, uint256 amount) external;

    /// @notice True when `wallet` is frozen on the token.
    function isFrozen(address wallet) external view returns (bool);

    /// @notice Units of `holder` at record time `time`, its current freeze and the settlement bits (one call).
    function paymentAccount(address holder, uint256 time)
        external
        view
        returns (uint256 units, bool frozen, uint256 settledBits);
}
