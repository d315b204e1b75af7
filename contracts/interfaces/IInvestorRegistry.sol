// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {IInvestorRecords} from "./IInvestorRecords.sol";
import {IIdentityRegistry} from "./IERC3643.sol";

/// @title IInvestorRegistry
/// @notice The issuer-wide investor registry: ERC-3643 identity-registry surface plus the munibond extensions
///         (region, category, tax class, KYC expiry, multi-wallet investors, EIP-712 KYC attestations, bound
///         bond tokens). Every path that gives an investor identity a further wallet links it (or reverts): the
///         wallets are flagged multiWallet and the identity's link generation moves on; bond tokens read both
///         and fold the investor's wallets into their aggregate themselves (the registry never calls a token).
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

    /// @notice A KYC provider's signed statement about one wallet (EIP-712 typed data). `issuedAt` is when the
    ///         provider made the statement: it is refused unless later than every registrar decision (and every
    ///         attestation already applied) about the wallet and its identity (see lastDecisionTime).
    /// @dev Type string: InvestorAttestation(address wallet,address identity,uint16 country,uint24 region,
    ///      uint8 category,uint8 taxClass,uint32 kycExpiry,uint64 issuedAt,uint256 nonce,uint256 deadline)
    struct InvestorAttestation {
        address wallet;
        address identity;
        uint16 country;
        uint24 region;
        uint8 category;
        uint8 taxClass;
        uint32 kycExpiry;
        uint64 issuedAt;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice Emitted whenever a wallet's record is written; `record` is the packed storage word.
    event InvestorRecordSet(address indexed wallet, address indexed identity, uint256 record);
    /// @notice Emitted when `wallet` is linked to the investor that already owns `existingWallet` (the identity's
    ///         link generation moved on).
    event WalletLinked(address indexed identity, address indexed existingWallet, address indexed wallet);
    /// @notice Emitted when a KYC provider is trusted or distrusted.
    event KycProviderSet(address indexed provider, bool oldTrusted, bool newTrusted);
    /// @notice Emitted when an attestation nonce is consumed or cancelled.
    event AttestationNonceUsed(address indexed provider, uint256 indexed nonce);
    /// @notice Emitted when a bond token is bound (a record of the series using this registry).
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
    /// @notice Thrown when an identity would get more than `max` wallets.
    error TooManyWallets(address identity, uint256 max);
    /// @notice Thrown when an attestation was issued at or before `decidedAt`, the last registrar decision (or
    ///         applied attestation) about its wallet or identity: the later decision wins.
    error AttestationSuperseded(address wallet, uint256 issuedAt, uint256 decidedAt);
    /// @notice Thrown when an attestation's issue time is in the future.
    error AttestationNotYetIssued(uint256 issuedAt, uint256 nowTime);

    /// @notice True when `wallet` is registered and its KYC has not expired.
    function isVerified(address wallet) external view override(IInvestorRecords, IIdentityRegistry) returns (bool);

    /// @notice Registers one wallet with its full record (registrar). Under an identity that already has a
    ///         wallet, the wallet is linked to the investor (as with linkWallet, but with the given record).
    function registerInvestor(
        address wallet,
        address identity_,
        uint16 country,
        uint24 region,
        uint8 category,
        uint8 taxClass,
        uint32 kycExpiry
    ) external;

    /// @notice Registers several wallets (registrar); see registerInvestor.
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
    ///         marks all the investor's wallets multi-wallet and moves the identity's link generation on, so every
    ///         series folds the wallet into the investor's aggregate at its next touch) (registrar). At most
    ///         MAX_WALLETS_PER_INVESTOR wallets per identity.
    function linkWallet(address existingWallet, address wallet) external;

    /// @notice Deletes the registration of a wallet (registrar); same as deleteIdentity. Attestations issued
    ///         before the removal cannot register the wallet again.
    function removeInvestor(address wallet) external;

    /// @notice Registers (or renews the record of) a wallet from a KYC provider's EIP-712 attestation.
    ///         Anyone may submit it. A new wallet of an identity that already has wallets is linked to them; a
    ///         renewal writes the attested record to every wallet of the investor. Refused when issued at or
    ///         before lastDecisionTime(wallet, identity), in the future, after its deadline, with a used or
    ///         cancelled nonce, or signed by a provider that is not trusted (now).
    function registerWithAttestation(InvestorAttestation calldata attestation, bytes calldata signature) external;

    /// @notice Revokes one of the caller's own attestations before it is used: its nonce can no longer be used.
    ///         (Distrusting a provider with setKycProvider revokes all of its attestations at once.)
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

    /// @notice All registered wallets of an investor identity, its first wallet first (empty when none).
    function linkedWallets(address identity_) external view returns (address[] memory);

    /// @notice Number of registered wallets of `identity_`, its link generation (moves on whenever a wallet joins
    ///         an identity that already has one; bond tokens compare it with the generation they folded) and the
    ///         time of the last decision about it (registrar write or applied attestation).
    function identityState(address identity_)
        external
        view
        returns (uint256 walletCount, uint256 generation, uint256 decidedAt);

    /// @notice An attestation about `wallet` naming `identity_` must be issued after this time: the last decision
    ///         about the identity or, for an unregistered wallet, its removal by the registrar if later.
    function lastDecisionTime(address wallet, address identity_) external view returns (uint256);

    /// @notice Most wallets one identity may have.
    function MAX_WALLETS_PER_INVESTOR() external view returns (uint256);

    /// @notice Records that a bond token uses this registry (admin or binder); O(1), nothing is called on it.
    function bindToken(address token) external;

    /// @notice Removes the record of a bound bond token (admin).
    function unbindToken(address token) external;

    /// @notice True when `token` is bound (enumerate with the TokenBound / TokenUnbound events).
    function isTokenBound(address token) external view returns (bool);
}
