// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IBondFactory} from "../interfaces/IBondFactory.sol";
import {IBondTokenCore} from "../interfaces/IBondToken.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IPaymentAgentPayments} from "../interfaces/IPaymentAgent.sol";
import {IPaymentAgentInit} from "../interfaces/IPaymentAgentInit.sol";

/// @notice The admin extension's view of the payment code it forwards to.
interface IPaymentsForwarder {
    function paymentsImplementation() external view returns (address);
}

/// @title BondFactory
/// @notice Deploys bond series for one issuer in one transaction each: a selector-routing proxy with the bond terms
///         as immutable args, initialized as the token and, given payment parameters, as its own payment agent; then
///         binds the token in the shared investor registry (the factory needs the registry's BINDER_ROLE).
/// @dev The proxy delegatecalls `claim` and `claimMany` to the PaymentAgent implementation and everything else to
///      the BondToken implementation (whose fallback reaches the admin extension, whose fallback reaches the
///      payment code), so token and payments share one storage and a holder's claim runs one implementation.
///      Proxies are not upgradeable: a series' code is fixed for its life (see docs/architecture.md).
contract BondFactory is IBondFactory, AccessControl {
    /// @notice May deploy series.
    bytes32 public constant DEPLOYER_ROLE = keccak256("DEPLOYER_ROLE");

    /// @notice Thrown when the proxy could not be created.
    error ProxyCreationFailed();

    address private immutable _tokenImplementation;
    address private immutable _paymentsImplementation;
    address private immutable _registry;

    /// @param admin DEFAULT_ADMIN_ROLE and DEPLOYER_ROLE holder
    /// @param tokenImplementation_ the BondToken implementation (its extension names the payment code)
    /// @param registry_ the issuer's InvestorRegistry
    constructor(address admin, address tokenImplementation_, address registry_) {
        if (admin == address(0) || tokenImplementation_ == address(0) || registry_ == address(0)) revert ZeroAddress();
        _tokenImplementation = tokenImplementation_;
        _paymentsImplementation =
            IPaymentsForwarder(IBondTokenCore(tokenImplementation_).extension()).paymentsImplementation();
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
        return _paymentsImplementation;
    }

    /// @inheritdoc IBondFactory
    function deploySeries(SeriesParams calldata params)
        external
        onlyRole(DEPLOYER_ROLE)
        returns (address token, address paymentAgent)
    {
        return _deploy(params);
    }

    /// @inheritdoc IBondFactory
    function deploySerial(SeriesParams[] calldata params)
        external
        onlyRole(DEPLOYER_ROLE)
        returns (address[] memory tokens, address[] memory paymentAgents)
    {
        tokens = new address[](params.length);
        paymentAgents = new address[](params.length);
        for (uint256 i; i < params.length; ++i) {
            (tokens[i], paymentAgents[i]) = _deploy(params[i]);
        }
    }

    /// @dev The payment token named in a payment agent's params: the first field of the ABI head of
    ///      `abi.encode(InitParams)` (bytes 32..64, after the tuple offset), or zero when the params are shorter.
    ///      The payment code checks it against the decoded params at initialization.
    function _paymentTokenOf(bytes calldata params) private pure returns (address token) {
        if (params.length >= 64) token = address(uint160(uint256(bytes32(params[32:64]))));
    }

    function _deploy(SeriesParams calldata p) private returns (address token, address agent) {
        bool payments = p.paymentAgentParams.length != 0;
        token = _deployProxy(
            abi.encode(_registry, _paymentTokenOf(p.paymentAgentParams), p.name, p.symbol, p.decimals, p.terms)
        );
        if (payments) agent = token;
        IBondTokenCore(token).initialize(p.roles, agent, p.compliance, p.recordTimes);
        if (payments) IPaymentAgentInit(token).initialize(token, _registry, p.roles.admin, p.paymentAgentParams);
        IInvestorRegistry(_registry).bindToken(token);
        emit SeriesDeployed(token, agent, p.terms.isin, p.terms.maturityDate);
    }

    /// @dev Creates the series proxy: 98 bytes of routing code followed by `args`. In EVM assembly (paris, so no
    ///      PUSH0; RETURNDATASIZE is zero before the call):
    ///        selector := shr(224, calldataload(0))
    ///        impl := selector is claim or claimMany ? payments : token
    ///        calldatacopy(0, 0, calldatasize()); ok := delegatecall(gas(), impl, 0, calldatasize(), 0, 0)
    ///        returndatacopy(0, 0, returndatasize()); ok ? return(0, returndatasize()) : revert(0, returndatasize())
    ///      BondTokenStorage.ARGS_OFFSET is the routing code's length.
    function _deployProxy(bytes memory args) private returns (address instance) {
        bytes memory code = abi.encodePacked(
            hex"61",
            uint16(0x62 + args.length),
            hex"80600a3d393df3", // init: codecopy(0, 10, len); return(0, len)
            hex"3d3560e01c8063",
            IPaymentAgentPayments.claim.selector,
            hex"14603057" // eq -> jumpi 0x30
            hex"63",
            IPaymentAgentPayments.claimMany.selector,
            hex"14603257" // eq -> jumpi 0x32
            hex"73",
            _tokenImplementation,
            hex"604856" // jump 0x48
            hex"5b505b" // 0x30: pop; 0x32:
            hex"73",
            _paymentsImplementation,
            hex"5b363d3d373d3d3d363d855af43d82803e903d91606057fd5bf3", // 0x48: delegatecall and return
            args
        );
        assembly ("memory-safe") {
            instance := create(0, add(code, 32), mload(code))
        }
        if (instance == address(0)) revert ProxyCreationFailed();
    }
}
