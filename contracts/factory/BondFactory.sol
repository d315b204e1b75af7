// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {IBondFactory} from "../interfaces/IBondFactory.sol";
import {IBondTokenCore} from "../interfaces/IBondToken.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IPaymentAgentInit} from "../interfaces/IPaymentAgentInit.sol";

/// @title BondFactory
/// @notice Deploys bond series for one issuer in one transaction each: a BondToken minimal clone with the bond
///         terms as immutable args, optionally a payment-agent clone (holding the token's PAYER role), and binds
///         the token in the shared investor registry (the factory needs the registry's BINDER_ROLE).
/// @dev Clones are not upgradeable: a series' code is fixed for its life (see docs/architecture.md).
contract BondFactory is IBondFactory, AccessControl {
    /// @notice May deploy series.
    bytes32 public constant DEPLOYER_ROLE = keccak256("DEPLOYER_ROLE");

    address private immutable _tokenImplementation;
    address private immutable _registry;
    address private _paymentAgentImplementation;

    /// @param admin DEFAULT_ADMIN_ROLE and DEPLOYER_ROLE holder
    /// @param tokenImplementation_ the BondToken implementation
    /// @param registry_ the issuer's InvestorRegistry
    constructor(address admin, address tokenImplementation_, address registry_) {
        if (admin == address(0) || tokenImplementation_ == address(0) || registry_ == address(0)) revert ZeroAddress();
        _tokenImplementation = tokenImplementation_;
        _registry = registry_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(DEPLOYER_ROLE, admin);
    }

    /// @inheritdoc IBondFactory
    function tokenImplementation() external view returns (address) {
        return _tokenImplementation;
    }

    /// @inheritdoc IBondFactory
    function registry() external view returns (address) {
        return _registry;
    }

    /// @inheritdoc IBondFactory
    function paymentAgentImplementation() external view returns (address) {
        return _paymentAgentImplementation;
    }

    /// @inheritdoc IBondFactory
    function setPaymentAgentImplementation(address implementation) external onlyRole(DEFAULT_ADMIN_ROLE) {
        address old = _paymentAgentImplementation;
        _paymentAgentImplementation = implementation;
        emit PaymentAgentImplementationChanged(old, implementation);
    }

    /// @inheritdoc IBondFactory
    function deploySeries(SeriesParams calldata params)
        external
        onlyRole(DEPLOYER_ROLE)
        returns (address token, address paymentAgent)
    {
        return _deploy(params, _paymentAgentImplementation);
    }

    /// @inheritdoc IBondFactory
    function deploySerial(SeriesParams[] calldata params)
        external
        onlyRole(DEPLOYER_ROLE)
        returns (address[] memory tokens, address[] memory paymentAgents)
    {
        address agentImpl = _paymentAgentImplementation;
        tokens = new address[](params.length);
        paymentAgents = new address[](params.length);
        for (uint256 i; i < params.length; ++i) {
            (tokens[i], paymentAgents[i]) = _deploy(params[i], agentImpl);
        }
    }

    /// @dev The payment token named in a payment agent's params: the first field of the ABI head of
    ///      `abi.encode(InitParams)` (bytes 32..64, after the tuple offset), or zero when the params are shorter.
    ///      The agent checks it against the decoded params at initialization.
    function _paymentTokenOf(bytes calldata params) private pure returns (address token) {
        if (params.length >= 64) token = address(uint160(uint256(bytes32(params[32:64]))));
    }

    function _deploy(SeriesParams calldata p, address agentImpl) private returns (address token, address agent) {
        token = Clones.cloneWithImmutableArgs(_tokenImplementation, abi.encode(_registry, p.name, p.symbol, p.decimals, p.terms));
        if (agentImpl != address(0)) {
            bytes memory args = abi.encodePacked(token, _registry, _paymentTokenOf(p.paymentAgentParams));
            agent = Clones.cloneWithImmutableArgs(agentImpl, args);
        }
        IBondTokenCore(token).initialize(p.roles, agent, p.compliance, p.recordTimes);
        if (agent != address(0)) {
            IPaymentAgentInit(agent).initialize(token, _registry, p.roles.admin, p.paymentAgentParams);
        }
        IInvestorRegistry(_registry).bindToken(token);
        emit SeriesDeployed(token, agent, p.terms.isin, p.terms.maturityDate);
    }
}
