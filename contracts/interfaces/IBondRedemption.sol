// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IBondRedemption
/// @notice Token surface the payment agent relies on to retire units when it pays principal.
/// @dev Assumed on the BondToken: only the token's PAYER role (granted by the factory to the series'
///      payment agent) may call `redeem`; it burns through the token's single balance hook and burns
///      frozen units too.
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

    /// @notice Reads `holder`'s units at record time `time`, its freeze and settlement bits, and adds `bits`
    ///         (at most 29) to its settlement bits when it held units then (PAYER role; bits are never cleared).
    /// @dev One call per holder and payment: the word is warm from the read, so marking costs one SSTORE.
    ///      `indexHint` is the expected index of `time` in the record schedule (probed first; any value is
    ///      safe, a miss falls back to the binary search). No event: the payment agent emits the payment event.
    function settleAccount(address holder, uint256 time, uint256 indexHint, uint256 bits)
        external
        returns (uint256 units, bool frozen, uint256 settledBits);
}
