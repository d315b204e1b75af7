// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {IBondTypes} from "./IBondToken.sol";

/// @title IBondFactory
/// @notice Deploys bond series wired to the issuer's registry: each series is one selector-routing proxy whose
///         storage holds the token and, when the series has payment parameters, its payment agent.
interface IBondFactory {
    /// @notice Everything needed to deploy one series.
    /// @param name ERC-20 name
    /// @param symbol ERC-20 symbol
    /// @param decimals ERC-20 decimals (0: one token = one denomination unit)
    /// @param terms fixed bond terms (immutable clone args)
    /// @param roles initial role holders
    /// @param compliance initial compliance rules
    /// @param recordTimes initial record times (strictly increasing, not passed)
    /// @param paymentAgentParams passed to the payment agent's initialize; empty = a series without payments
    struct SeriesParams {
        string name;
        string symbol;
        uint8 decimals;
        IBondTypes.BondTerms terms;
        IBondTypes.Roles roles;
        IBondTypes.ComplianceConfig compliance;
        uint256[] recordTimes;
        bytes paymentAgentParams;
    }

    /// @notice Emitted for every deployed series.
    event SeriesDeployed(address indexed token, address indexed paymentAgent, string isin, uint256 maturityDate);

    /// @notice Thrown for a zero address where one is required.
    error ZeroAddress();

    /// @notice Deploys one series (deployer role).
    function deploySeries(SeriesParams calldata params) external returns (address token, address paymentAgent);

    /// @notice Deploys several series, e.g. the serial maturities of one issue (deployer role).
    function deploySerial(SeriesParams[] calldata params)
        external
        returns (address[] memory tokens, address[] memory paymentAgents);

    /// @notice The BondToken implementation series proxies route to.
    function tokenImplementation() external view returns (address);

    /// @notice The issuer's investor registry every series uses.
    function registry() external view returns (address);

    /// @notice The PaymentAgent implementation series proxies route `claim` and `claimMany` to (the token's
    ///         admin extension routes the other payment functions there).
    function paymentAgentImplementation() external view returns (address);
}
