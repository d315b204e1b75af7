// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {IBondTypes} from "./IBondToken.sol";

/// @title IBondFactory
/// @notice Deploys bond series (token clone + optional payment-agent clone) wired to the issuer's registry.
interface IBondFactory {
    /// @notice Everything needed to deploy one series.
    /// @param name ERC-20 name
    /// @param symbol ERC-20 symbol
    /// @param decimals ERC-20 decimals (0: one token = one denomination unit)
    /// @param terms fixed bond terms (immutable clone args)
    /// @param roles initial role holders
    /// @param compliance initial compliance rules
    /// @param recordTimes initial record times (strictly increasing, not passed)
    /// @param paymentAgentParams passed to the payment agent's initialize (ignored without agent implementation)
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
    /// @notice Emitted when the payment-agent implementation changes.
    event PaymentAgentImplementationChanged(address oldImplementation, address newImplementation);

    /// @notice Thrown for a zero address where one is required.
    error ZeroAddress();

    /// @notice Deploys one series (deployer role).
    function deploySeries(SeriesParams calldata params) external returns (address token, address paymentAgent);

    /// @notice Deploys several series, e.g. the serial maturities of one issue (deployer role).
    function deploySerial(SeriesParams[] calldata params)
        external
        returns (address[] memory tokens, address[] memory paymentAgents);

    /// @notice Sets the payment-agent implementation cloned for new series; zero = no agent (admin).
    function setPaymentAgentImplementation(address implementation) external;

    /// @notice The BondToken implementation that series clone.
    function tokenImplementation() external view returns (address);

    /// @notice The issuer's investor registry every series uses.
    function registry() external view returns (address);

    /// @notice The payment-agent implementation (zero = none).
    function paymentAgentImplementation() external view returns (address);
}
