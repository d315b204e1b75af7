// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title BaselineERC20
/// @notice A plain OpenZeppelin 5 ERC-20, measured next to BondToken in the gas benchmark as the baseline.
contract BaselineERC20 is ERC20 {
    constructor() ERC20("Baseline", "BASE") {}

    /// @notice Mints `amount` to `to`; unrestricted because this only serves as a benchmark baseline.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
