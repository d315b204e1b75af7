// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IBondToken} from "../interfaces/IBondToken.sol";

/// @title BaselineEscrow
/// @notice The floor of any escrowing subscription commitment, measured beside SubscriptionBook.commit in the gas
///         benchmark: one new storage word per investor, one plain ERC-20 `transferFrom` into the contract and one
///         event. `commit` does nothing else; `commitChecked` adds only the series' own compliance view for the
///         whole amount, the check the issue requires at the commitment. No window, no counters, no arrival
///         order, no reentrancy guard, no balance delta: never use it for real money.
contract BaselineEscrow {
    IERC20 public immutable cash;
    IBondToken public immutable series;
    mapping(address investor => uint256) public committed;

    error NotEligible(address investor, uint256 units, uint8 code);
    error CashNotMoved(address investor, uint256 amount);

    event Committed(address indexed investor, uint256 units);

    constructor(IERC20 cash_, IBondToken series_) {
        cash = cash_;
        series = series_;
    }

    /// @notice Records `units` for the caller and pulls the same amount of cash (price 1).
    function commit(uint256 units) external {
        _commit(units);
    }

    /// @notice `commit` after the series' `detectTransferRestriction(0, caller, units)` returned 0.
    function commitChecked(uint256 units) external {
        uint8 code = series.detectTransferRestriction(address(0), msg.sender, committed[msg.sender] + units);
        if (code != 0) revert NotEligible(msg.sender, units, code);
        _commit(units);
    }

    function _commit(uint256 units) private {
        committed[msg.sender] += units;
        if (!cash.transferFrom(msg.sender, address(this), units)) revert CashNotMoved(msg.sender, units);
        emit Committed(msg.sender, units);
    }
}
