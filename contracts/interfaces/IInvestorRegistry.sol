// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {IInvestorRecords} from "./IInvestorRecords.sol";
import {IIdentityRegistry} from "./IERC3643.sol";

/// @title IInvestorRegistry
/// @notice The issuer-wide investor registry: ERC-3643 identity-registry surface plus the munibond extensions
///         (region, category, tax class, KYC expiry, multi-wallet investors, EIP-712 KYC attestations, bound
///         bond tokens that aggregate multi-wallet investors).
interface IInvestorRegistry is IInvestorRecords, IIdentityRegistry {
    /// @notice Registration data of one wallet (the input form of an InvestorRecord).
    struct InvestorInput {
        address wallet;
        address identity;
        uint16 country;
        uint24 region;
        uint8 category;
        uint8 taxClass;
        uint32 kycExpiry;
    }

    /// @notice A KYC provider's signed statement about one wallet (EIP-712 typed data).
    /// @dev Type string: InvestorAttestation(address wallet,address identity,uint16 country,uint24 region,
    ///      uint8 category,uint8 taxClass,uint32 kycExpiry,uint256 nonce,uint256 deadline)
    struct InvestorAttestation {
        address wallet;
        address identity;
        uint16 country;
        uint24 region;
        uint8 category;
        uint8 taxClass;
        uint32 kycExpiry;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice Emitted whenever a wallet's record is written; `record` is the packed storage word.
    event InvestorRecordSet(address indexed wallet, address indexed identity, uint256 record);
    /// @notice Emitted when `wallet` is linked to the investor that already owns `existingWallet`.
    event WalletLinked(address indexed identity, address indexed existingWallet, address indexed wallet);
    /// @notice Emitted when a KYC provider is trusted or distrusted.
    event KycProviderSet(address indexed provider, bool oldTrusted, bool newTrusted);
    /// @notice Emitted when an attestation nonce is consumed or cancelled.
    event AttestationNonceUsed(address indexed provider, uint256 indexed nonce);
    /// @notice Emitted when a bond token is bound (it will receive wallet-link hooks).
    event TokenBound(address _token);
    /// @notice Emitted when a bond token is unbound.
    event TokenUnbound(address _token);

    /// @notice Thrown for a zero wallet or identity.
    error ZeroAddress();
    /// @notice Thrown when registering a wallet that is already registered.
    error WalletAlreadyRegistered(address wallet, address identity);
    /// @notice Thrown when a wallet is not registered.
    error WalletNotRegistered(address wallet);
    /// @notice Thrown when batch arrays differ in length.
    error LengthMismatch(uint256 a, uint256 b);
    /// @notice Thrown when an attestation's signer is not a trusted KYC provider.
    error UntrustedKycProvider(address signer);
    /// @notice Thrown when an attestation's deadline has passed.
    error AttestationExpired(uint256 deadline, uint256 nowTime);
    /// @notice Thrown when an attestation nonce was already used or cancelled.
    error AttestationNonceAlreadyUsed(address provider, uint256 nonce);
    /// @notice Thrown when an attestation would re-register a wallet under another identity.
    error IdentityMismatch(address wallet, address registered, address attested);
    /// @notice Thrown when the T-REX storage/issuers/topics components are set to anything else than supported.
    error UnsupportedComponent(address component);
    /// @notice Thrown when a packed record sets bits above kycExpiry.
    error InvalidPackedRecord(uint256 index, uint256 record);
    /// @notice Thrown when binding an already bound token or unbinding an unknown token.
    error TokenBinding(address token, bool bound);

    /// @notice True when `wallet` is registered and its KYC has not expired.
    function isVerified(address wallet) external view override(IInvestorRecords, IIdentityRegistry) returns (bool);

    /// @notice Registers one wallet with its full record (registrar).
    function registerInvestor(
        address wallet,
        address identity_,
        uint16 country,
        uint24 region,
        uint8 category,
        uint8 taxClass,
        uint32 kycExpiry
    ) external;

    /// @notice Registers several wallets (registrar).
    function batchRegisterInvestors(InvestorInput[] calldata investors) external;

    /// @notice Registers several wallets from packed record words (the cheapest onboarding path): `packed[i]` is
    ///         the InvestorRecord storage word of `wallets[i]` (identity [0,160), country [160,176), region
    ///         [176,200), category [200,208), taxClass [208,216), kycExpiry [216,248); the multiWallet bit 248 must
    ///         be zero) (registrar).
    function batchRegisterPacked(address[] calldata wallets, uint256[] calldata packed) external;

    /// @notice Updates country, region, category, tax class and KYC expiry of a wallet and of every wallet
    ///         linked to the same investor (registrar).
    function updateInvestor(address wallet, uint16 country, uint24 region, uint8 category, uint8 taxClass, uint32 kycExpiry)
        external;

    /// @notice Registers `wallet` as a further wallet of the investor owning `existingWallet` (copies the record,
    ///         marks all the investor's wallets multi-wallet and calls every bound token's link hook) (registrar).
    function linkWallet(address existingWallet, address wallet) external;

    /// @notice Deletes the registration of a wallet (registrar); same as deleteIdentity.
    function removeInvestor(address wallet) external;

    /// @notice Registers (or renews the record of) a wallet from a KYC provider's EIP-712 attestation.
    ///         Anyone may submit it.
    function registerWithAttestation(InvestorAttestation calldata attestation, bytes calldata signature) external;

    /// @notice Cancels one of the caller's own attestation nonces.
    function cancelAttestationNonce(uint256 nonce) external;

    /// @notice True when `provider` has used or cancelled `nonce`.
    function isNonceUsed(address provider, uint256 nonce) external view returns (bool);

    /// @notice EIP-712 digest of an attestation (what the KYC provider signs).
    function attestationDigest(InvestorAttestation calldata attestation) external view returns (bytes32);

    /// @notice Trusts or distrusts a KYC provider (admin).
    function setKycProvider(address provider, bool trusted) external;

    /// @notice True when `provider` is trusted.
    function isKycProvider(address provider) external view returns (bool);

    /// @notice Packed record words of two wallets in one call (bond tokens use this on every transfer).
    function records(address a, address b) external view returns (uint256 recordA, uint256 recordB);

    /// @notice Packed record word of one wallet.
    function record(address wallet) external view returns (uint256);

    /// @notice All wallets of a multi-wallet investor (empty for single-wallet investors).
    function linkedWallets(address identity_) external view returns (address[] memory);

    /// @notice Binds a bond token so it receives wallet-link hooks (admin or binder).
    function bindToken(address token) external;

    /// @notice Unbinds a bond token (admin).
    function unbindToken(address token) external;

    /// @notice The bound bond tokens.
    function boundTokens() external view returns (address[] memory);
}

/// @title IWalletLinkHook
/// @notice Called by the investor registry on every bound token when wallets of one investor get linked.
interface IWalletLinkHook {
    /// @notice Starts aggregating `wallets` under `identity` (wallets already aggregated are skipped).
    function onWalletsLinked(address identity, address[] calldata wallets) external;
}
