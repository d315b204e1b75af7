// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IBondRedemption
/// @notice Token surface the payment agent relies on to retire units when it pays principal.
/// @dev Served by the BondToken: only the series itself (its payment code, calling its own address) may call
///      `retire`. Units are retired at the record time of the period that retires them; `retire` burns the ones
///      still in the holder's balance (frozen units too), so each retired unit leaves the supply exactly once.
interface IBondRedemption {
    /// @notice Burns the units of `holder` retired at passed record times and not yet burned; returns them.
    function retire(address holder) external returns (uint256 units);

    /// @notice True when `wallet` is frozen on the token.
    function isFrozen(address wallet) external view returns (bool);

    /// @notice Units of `holder` at record time `time`, its current freeze and the settlement bits (one call).
    function paymentAccount(address holder, uint256 time)
        external
        view
        returns (uint256 units, bool frozen, uint256 settledBits);
}
