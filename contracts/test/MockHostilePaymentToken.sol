// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {MockPaymentToken} from "./MockPaymentToken.sol";

/// @title MockHostilePaymentToken
/// @notice A payment token that behaves as real ones sometimes do, switchable per test: a stablecoin blocklist
///         (sender or receiver), a global pause, `false` returned instead of a revert for chosen receivers, a fee
///         taken on every transfer, and transfers that return no data (USDT style). Unrestricted: a test token.
contract MockHostilePaymentToken is MockPaymentToken {
    mapping(address account => bool) public blocked;
    mapping(address account => bool) public refusedQuietly;
    bool public paused;
    bool public noReturnData;
    uint256 public feePpm;

    error Blocked(address account);
    error TokenPaused();

    constructor(uint8 decimals_) MockPaymentToken("Hostile Yen", "XJPY", decimals_) {}

    function setBlocked(address account, bool on) external {
        blocked[account] = on;
    }

    function setRefusedQuietly(address account, bool on) external {
        refusedQuietly[account] = on;
    }

    function setPaused(bool on) external {
        paused = on;
    }

    function setNoReturnData(bool on) external {
        noReturnData = on;
    }

    function setFeePpm(uint256 ppm) external {
        feePpm = ppm;
    }

    /// @notice ERC-20 transfer with the configured misbehaviour: `false` for a quietly refused receiver, no return
    ///         data when `noReturnData` is on.
    function transfer(address to, uint256 value) public override returns (bool) {
        if (refusedQuietly[to]) return false;
        super.transfer(to, value);
        if (noReturnData) {
            assembly ("memory-safe") {
                return(0, 0)
            }
        }
        return true;
    }

    /// @notice ERC-20 transferFrom with the same misbehaviour as `transfer` (for cash pulled by a settlement).
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (refusedQuietly[to]) return false;
        super.transferFrom(from, to, value);
        if (noReturnData) {
            assembly ("memory-safe") {
                return(0, 0)
            }
        }
        return true;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (paused) revert TokenPaused();
        if (blocked[from]) revert Blocked(from);
        if (blocked[to]) revert Blocked(to);
        uint256 fee = from != address(0) && to != address(0) ? value * feePpm / 1_000_000 : 0;
        if (fee != 0) super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
