// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

/// @title IERC3643
/// @notice The ERC-3643 token interface. Selectors, events and the ERC-165 id (0xb97d944c) follow
///         shared/reference/erc3643_interfaces.sol. Event `indexed` flags follow the [AST]/[TRX] variant
///         (the form deployed T-REX tokens emit): UpdatedTokenInformation indexes name, symbol and onchain id;
///         RecoverySuccess indexes all three addresses. Like [TRX] it extends IERC20 and IERC20Metadata without
///         re-declaring their functions. ONCHAINID-typed values are plain addresses in the ABI.
interface IERC3643 is IERC20, IERC20Metadata {
    /// @notice Emitted when name, symbol or onchain id change (and at initialization).
    event UpdatedTokenInformation(
        string indexed _newName, string indexed _newSymbol, uint8 _newDecimals, string _newVersion, address indexed _newOnchainID
    );
    /// @notice Emitted when the identity registry is set.
    event IdentityRegistryAdded(address indexed _identityRegistry);
    /// @notice Emitted when the compliance is set (always the token itself here).
    event ComplianceAdded(address indexed _compliance);
    /// @notice Emitted when a lost wallet's holding was moved to a new wallet of the same investor.
    event RecoverySuccess(address indexed _lostWallet, address indexed _newWallet, address indexed _investorOnchainID);
    /// @notice Emitted when a wallet is frozen or unfrozen as a whole; `_owner` is the caller.
    event AddressFrozen(address indexed _userAddress, bool indexed _isFrozen, address indexed _owner);
    /// @notice Emitted when `_amount` tokens of a wallet are frozen.
    event TokensFrozen(address indexed _userAddress, uint256 _amount);
    /// @notice Emitted when `_amount` tokens of a wallet are unfrozen.
    event TokensUnfrozen(address indexed _userAddress, uint256 _amount);
    /// @notice Emitted when the token is paused.
    event Paused(address _userAddress);
    /// @notice Emitted when the token is unpaused.
    event Unpaused(address _userAddress);

    /// @notice Address of the token issuer's onchain identity (may be zero).
    function onchainID() external view returns (address);
    /// @notice Version string of the token implementation.
    function version() external view returns (string memory);
    /// @notice The identity registry consulted on every balance change.
    function identityRegistry() external view returns (address);
    /// @notice The compliance contract (this token itself: rules are evaluated internally).
    function compliance() external view returns (address);
    /// @notice True while investor transfers are paused.
    function paused() external view returns (bool);
    /// @notice True when the wallet is frozen as a whole.
    function isFrozen(address _userAddress) external view returns (bool);
    /// @notice Partially frozen amount of the wallet.
    function getFrozenTokens(address _userAddress) external view returns (uint256);

    /// @notice Changes the token name (admin).
    function setName(string calldata _name) external;
    /// @notice Changes the token symbol (admin).
    function setSymbol(string calldata _symbol) external;
    /// @notice Sets the issuer's onchain identity (admin).
    function setOnchainID(address _onchainID) external;
    /// @notice Pauses investor transfers (freezer).
    function pause() external;
    /// @notice Unpauses investor transfers (freezer).
    function unpause() external;
    /// @notice Freezes or unfreezes a whole wallet (freezer).
    function setAddressFrozen(address _userAddress, bool _freeze) external;
    /// @notice Freezes `_amount` more tokens of a wallet (freezer).
    function freezePartialTokens(address _userAddress, uint256 _amount) external;
    /// @notice Unfreezes `_amount` tokens of a wallet (freezer).
    function unfreezePartialTokens(address _userAddress, uint256 _amount) external;
    /// @notice Sets the identity registry (admin).
    function setIdentityRegistry(address _identityRegistry) external;
    /// @notice Sets the compliance; only the token itself is accepted because the rules are internal.
    function setCompliance(address _compliance) external;

    /// @notice Agent transfer that bypasses sender-side rules (transfer agent).
    function forcedTransfer(address _from, address _to, uint256 _amount) external returns (bool);
    /// @notice Creates tokens (minter).
    function mint(address _to, uint256 _amount) external;
    /// @notice Destroys unfrozen tokens (minter).
    function burn(address _userAddress, uint256 _amount) external;
    /// @notice Moves a lost wallet's holding and freezes to a new wallet of the same investor (transfer agent).
    function recoveryAddress(address _lostWallet, address _newWallet, address _investorOnchainID) external returns (bool);

    /// @notice Several transfers from the caller.
    function batchTransfer(address[] calldata _toList, uint256[] calldata _amounts) external;
    /// @notice Several forced transfers.
    function batchForcedTransfer(address[] calldata _fromList, address[] calldata _toList, uint256[] calldata _amounts)
        external;
    /// @notice Several mints.
    function batchMint(address[] calldata _toList, uint256[] calldata _amounts) external;
    /// @notice Several burns.
    function batchBurn(address[] calldata _userAddresses, uint256[] calldata _amounts) external;
    /// @notice Several wallet freezes.
    function batchSetAddressFrozen(address[] calldata _userAddresses, bool[] calldata _freeze) external;
    /// @notice Several partial freezes.
    function batchFreezePartialTokens(address[] calldata _userAddresses, uint256[] calldata _amounts) external;
    /// @notice Several partial unfreezes.
    function batchUnfreezePartialTokens(address[] calldata _userAddresses, uint256[] calldata _amounts) external;
}

/// @title IAgentRole
/// @notice ERC-3643 agent management (ERC-165 id 0x0cba0fa8).
interface IAgentRole {
    /// @notice Emitted when an agent is added.
    event AgentAdded(address indexed _agent);
    /// @notice Emitted when an agent is removed.
    event AgentRemoved(address indexed _agent);

    /// @notice Appoints an agent (owner/admin only).
    function addAgent(address _agent) external;
    /// @notice Removes an agent (owner/admin only).
    function removeAgent(address _agent) external;
    /// @notice True when `_agent` is an agent.
    function isAgent(address _agent) external view returns (bool);
}

/// @title IERC173
/// @notice Contract ownership (ERC-165 id 0x7f5828d0).
interface IERC173 {
    /// @notice Emitted when ownership changes.
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice The owner.
    function owner() external view returns (address);
    /// @notice Transfers ownership to `_newOwner`.
    function transferOwnership(address _newOwner) external;
}

/// @title IIdentityRegistry
/// @notice ERC-3643 identity registry surface with identities as addresses (ERC-165 id 0x8ff89f73).
interface IIdentityRegistry {
    /// @notice Emitted when the claim topics registry is set.
    event ClaimTopicsRegistrySet(address indexed claimTopicsRegistry);
    /// @notice Emitted when the identity storage is set.
    event IdentityStorageSet(address indexed identityStorage);
    /// @notice Emitted when the trusted issuers registry is set.
    event TrustedIssuersRegistrySet(address indexed trustedIssuersRegistry);
    /// @notice Emitted when a wallet is registered with an identity.
    event IdentityRegistered(address indexed investorAddress, address indexed identity);
    /// @notice Emitted when a wallet's registration is deleted.
    event IdentityRemoved(address indexed investorAddress, address indexed identity);
    /// @notice Emitted when a wallet's identity changes.
    event IdentityUpdated(address indexed oldIdentity, address indexed newIdentity);
    /// @notice Emitted when a wallet's country changes.
    event CountryUpdated(address indexed investorAddress, uint16 indexed country);

    /// @notice The identity storage.
    function identityStorage() external view returns (address);
    /// @notice The trusted issuers registry.
    function issuersRegistry() external view returns (address);
    /// @notice The claim topics registry.
    function topicsRegistry() external view returns (address);
    /// @notice Sets the identity storage.
    function setIdentityRegistryStorage(address _identityRegistryStorage) external;
    /// @notice Sets the claim topics registry.
    function setClaimTopicsRegistry(address _claimTopicsRegistry) external;
    /// @notice Sets the trusted issuers registry.
    function setTrustedIssuersRegistry(address _trustedIssuersRegistry) external;
    /// @notice Registers a wallet with an identity and a country.
    function registerIdentity(address _userAddress, address _identity, uint16 _country) external;
    /// @notice Deletes a wallet's registration.
    function deleteIdentity(address _userAddress) external;
    /// @notice Changes a wallet's country.
    function updateCountry(address _userAddress, uint16 _country) external;
    /// @notice Changes a wallet's identity.
    function updateIdentity(address _userAddress, address _identity) external;
    /// @notice Registers several wallets.
    function batchRegisterIdentity(address[] calldata _userAddresses, address[] calldata _identities, uint16[] calldata _countries)
        external;
    /// @notice True when the wallet is registered.
    function contains(address _userAddress) external view returns (bool);
    /// @notice True when the wallet is registered and eligible.
    function isVerified(address _userAddress) external view returns (bool);
    /// @notice The wallet's identity.
    function identity(address _userAddress) external view returns (address);
    /// @notice The wallet's country (ISO-3166-1 numeric).
    function investorCountry(address _userAddress) external view returns (uint16);
}
