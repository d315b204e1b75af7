// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title BaselineSwap
/// @notice The plainest two-leg swap of two OpenZeppelin ERC-20s (no signature, no lock, no compliance): the
///         gas benchmark's baseline beside TradeSettlement.settle.
contract BaselineSwap {
    /// @notice Moves `amountA` of `tokenA` from `a` to `b` and `amountB` of `tokenB` from `b` to `a` (both approved
    ///         this contract).
    function swap(IERC20 tokenA, address a, uint256 amountA, IERC20 tokenB, address b, uint256 amountB) external {
        require(tokenA.transferFrom(a, b, amountA));
        require(tokenB.transferFrom(b, a, amountB));
    }
}
