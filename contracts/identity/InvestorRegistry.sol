// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IInvestorRecords} from "../interfaces/IInvestorRecords.sol";
import {IIdentityRegistry} from "../interfaces/IERC3643.sol";
import {IInvestorRegistry, IWalletLinkHook} from "../interfaces/IInvestorRegistry.sol";

/// @title InvestorRegistry
/// @notice One registry per issuer, shared by all its bond series: wallet -> investor record in one storage slot.
/// @dev Record word layout (Solidity packing of InvestorRecord, low to high bits): identity [0,160),
///      country [160,176), region [176,200), category [200,208), taxClass [208,216), kycExpiry [216,248),
///      multiWallet [248,256). A wallet is verified while it has an identity and block.timestamp < kycExpiry.
///      ERC-3643 `registerIdentity` has no expiry and registers with kycExpiry = type(uint32).max.
///      There is no separate identity storage, trusted-issuers or claim-topics registry: the records live here
///      (identityStorage() returns this contract) and eligibility comes from the registrar or a trusted KYC
///      provider's EIP-712 attestation instead of ONCHAINID claims (issuersRegistry() and topicsRegistry()
///      return address(0)).
///      Multi-wallet investors: the identity -> wallets list exists only for investors with several wallets
///      and is created by linkWallet (a second slot per investor at onboarding would cost ~22k gas each).
///      Further wallets of an investor MUST be added with linkWallet; registering a wallet directly with the
///      identity of an investor who is already multi-wallet is routed to the link path automatically.
contract InvestorRegistry is IInvestorRegistry, AccessControl, EIP712 {
    /// @notice Registers, updates and removes investors.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice May bind bond tokens (given to the factory).
    bytes32 public constant BINDER_ROLE = keccak256("BINDER_ROLE");

    bytes32 private constant ATTESTATION_TYPEHASH = keccak256(
        "InvestorAttestation(address wallet,address identity,uint16 country,uint24 region,uint8 category,uint8 taxClass,uint32 kycExpiry,uint256 nonce,uint256 deadline)"
    );
    uint256 private constant MULTI_BIT = 1 << 248;
    uint256 private constant ID_MASK = (1 << 160) - 1;

    mapping(address wallet => uint256) private _records;
    mapping(address identity => address[]) private _linked;
    mapping(address provider => bool) private _kycProviders;
    mapping(address provider => mapping(uint256 word => uint256)) private _nonceBitmap;
    address[] private _tokens;

    /// @param admin DEFAULT_ADMIN_ROLE holder (expected: the issuer's multisig)
    constructor(address admin) EIP712("munibond InvestorRegistry", "1") {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IInvestorRecords
    function investorRecord(address wallet) external view returns (InvestorRecord memory r) {
        uint256 w = _records[wallet];
        r.identity = address(uint160(w));
        r.country = uint16(w >> 160);
        r.region = uint24(w >> 176);
        r.category = uint8(w >> 200);
        r.taxClass = uint8(w >> 208);
        r.kycExpiry = uint32(w >> 216);
        r.multiWallet = (w & MULTI_BIT) != 0;
    }

    /// @inheritdoc IInvestorRegistry
    function records(address a, address b) external view returns (uint256, uint256) {
        return (_records[a], _records[b]);
    }

    /// @inheritdoc IInvestorRegistry
    function record(address wallet) external view returns (uint256) {
        return _records[wallet];
    }

    /// @inheritdoc IInvestorRegistry
    function isVerified(address wallet) public view returns (bool) {
        uint256 w = _records[wallet];
        return (w & ID_MASK) != 0 && block.timestamp < uint32(w >> 216);
    }

    /// @inheritdoc IIdentityRegistry
    function contains(address wallet) external view returns (bool) {
        return (_records[wallet] & ID_MASK) != 0;
    }

    /// @inheritdoc IIdentityRegistry
    function identity(address wallet) external view returns (address) {
        return address(uint160(_records[wallet]));
    }

    /// @inheritdoc IIdentityRegistry
    function investorCountry(address wallet) external view returns (uint16) {
        return uint16(_records[wallet] >> 160);
    }

    /// @inheritdoc IInvestorRegistry
    function linkedWallets(address identity_) external view returns (address[] memory) {
        return _linked[identity_];
    }

    /// @inheritdoc IInvestorRegistry
    function isKycProvider(address provider) external view returns (bool) {
        return _kycProviders[provider];
    }

    /// @inheritdoc IInvestorRegistry
    function isNonceUsed(address provider, uint256 nonce) public view returns (bool) {
        return (_nonceBitmap[provider][nonce >> 8] >> (nonce & 0xff)) & 1 == 1;
    }

    /// @inheritdoc IInvestorRegistry
    function boundTokens() external view returns (address[] memory) {
        return _tokens;
    }

    /// @notice The records live in this contract, so the identity storage is this contract.
    function identityStorage() external view returns (address) {
        return address(this);
    }

    /// @notice No ONCHAINID claim checking: eligibility comes from registrars and KYC attestations (zero).
    function issuersRegistry() external pure returns (address) {
        return address(0);
    }

    /// @notice No ONCHAINID claim topics (zero); see issuersRegistry.
    function topicsRegistry() external pure returns (address) {
        return address(0);
    }

    /// @inheritdoc IInvestorRegistry
    function attestationDigest(InvestorAttestation calldata a) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    ATTESTATION_TYPEHASH,
                    a.wallet,
                    a.identity,
                    a.country,
                    a.region,
                    a.category,
                    a.taxClass,
                    a.kycExpiry,
                    a.nonce,
                    a.deadline
                )
            )
        );
    }

    // ------------------------------------------------------------------ ERC-3643 registry writes

    /// @notice Accepts only this contract (the records are stored here); admin.
    function setIdentityRegistryStorage(address storage_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (storage_ != address(this)) revert UnsupportedComponent(storage_);
        emit IdentityStorageSet(storage_);
    }

    /// @notice Accepts only address(0) (no claim topics); admin.
    function setClaimTopicsRegistry(address registry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (registry_ != address(0)) revert UnsupportedComponent(registry_);
        emit ClaimTopicsRegistrySet(registry_);
    }

    /// @notice Accepts only address(0) (no claim issuers); admin.
    function setTrustedIssuersRegistry(address registry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (registry_ != address(0)) revert UnsupportedComponent(registry_);
        emit TrustedIssuersRegistrySet(registry_);
    }

    /// @notice ERC-3643 registration without expiry (kycExpiry = type(uint32).max), region/category/taxClass 0.
    function registerIdentity(address wallet, address identity_, uint16 country) external onlyRole(REGISTRAR_ROLE) {
        _register(wallet, identity_, _pack(identity_, country, 0, 0, 0, type(uint32).max));
    }

    /// @notice ERC-3643 batch registration (see registerIdentity).
    function batchRegisterIdentity(address[] calldata wallets, address[] calldata identities, uint16[] calldata countries)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        if (wallets.length != identities.length) revert LengthMismatch(wallets.length, identities.length);
        if (wallets.length != countries.length) revert LengthMismatch(wallets.length, countries.length);
        for (uint256 i; i < wallets.length; ++i) {
            _register(wallets[i], identities[i], _pack(identities[i], countries[i], 0, 0, 0, type(uint32).max));
        }
    }

    /// @inheritdoc IIdentityRegistry
    function updateCountry(address wallet, uint16 country) external onlyRole(REGISTRAR_ROLE) {
        uint256 w = _existing(wallet);
        _forEachWallet(wallet, w, (w & ~(uint256(0xffff) << 160)) | (uint256(country) << 160), true);
    }

    /// @notice Moves `wallet` to another identity. If it was linked to other wallets it leaves that list (its
    ///         multiWallet flag is cleared). Tokens keep aggregating it under the identity they recorded.
    function updateIdentity(address wallet, address newIdentity) external onlyRole(REGISTRAR_ROLE) {
        if (newIdentity == address(0)) revert ZeroAddress();
        uint256 w = _existing(wallet);
        address old = address(uint160(w));
        if (w & MULTI_BIT != 0) _unlink(old, wallet);
        w = (w & ~(ID_MASK | MULTI_BIT)) | uint160(newIdentity);
        _records[wallet] = w;
        emit IdentityUpdated(old, newIdentity);
        emit InvestorRecordSet(wallet, newIdentity, w);
    }

    /// @inheritdoc IIdentityRegistry
    function deleteIdentity(address wallet) external onlyRole(REGISTRAR_ROLE) {
        _remove(wallet);
    }

    // ------------------------------------------------------------------ extended registry writes

    /// @inheritdoc IInvestorRegistry
    function registerInvestor(
        address wallet,
        address identity_,
        uint16 country,
        uint24 region,
        uint8 category,
        uint8 taxClass,
        uint32 kycExpiry
    ) external onlyRole(REGISTRAR_ROLE) {
        _register(wallet, identity_, _pack(identity_, country, region, category, taxClass, kycExpiry));
    }

    /// @inheritdoc IInvestorRegistry
    function batchRegisterInvestors(InvestorInput[] calldata investors) external onlyRole(REGISTRAR_ROLE) {
        for (uint256 i; i < investors.length; ++i) {
            InvestorInput calldata x = investors[i];
            _register(x.wallet, x.identity, _pack(x.identity, x.country, x.region, x.category, x.taxClass, x.kycExpiry));
        }
    }

    /// @inheritdoc IInvestorRegistry
    function batchRegisterPacked(address[] calldata wallets, uint256[] calldata packed) external onlyRole(REGISTRAR_ROLE) {
        if (wallets.length != packed.length) revert LengthMismatch(wallets.length, packed.length);
        for (uint256 i; i < wallets.length; ++i) {
            uint256 w = packed[i];
            if (w >> 248 != 0) revert InvalidPackedRecord(i, w);
            _register(wallets[i], address(uint160(w)), w);
        }
    }

    /// @inheritdoc IInvestorRegistry
    function updateInvestor(address wallet, uint16 country, uint24 region, uint8 category, uint8 taxClass, uint32 kycExpiry)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        uint256 w = _existing(wallet);
        uint16 oldCountry = uint16(w >> 160);
        uint256 nw = _pack(address(uint160(w)), country, region, category, taxClass, kycExpiry) | (w & MULTI_BIT);
        _forEachWallet(wallet, w, nw, oldCountry != country);
    }

    /// @inheritdoc IInvestorRegistry
    function linkWallet(address existingWallet, address wallet) external onlyRole(REGISTRAR_ROLE) {
        uint256 w = _existing(existingWallet);
        if (wallet == address(0)) revert ZeroAddress();
        uint256 cur = _records[wallet];
        if (cur & ID_MASK != 0) revert WalletAlreadyRegistered(wallet, address(uint160(cur)));
        _link(address(uint160(w)), existingWallet, wallet, w | MULTI_BIT);
    }

    /// @inheritdoc IInvestorRegistry
    function removeInvestor(address wallet) external onlyRole(REGISTRAR_ROLE) {
        _remove(wallet);
    }

    /// @inheritdoc IInvestorRegistry
    function registerWithAttestation(InvestorAttestation calldata a, bytes calldata signature) external {
        if (block.timestamp > a.deadline) revert AttestationExpired(a.deadline, block.timestamp);
        address signer = ECDSA.recover(attestationDigest(a), signature);
        if (!_kycProviders[signer]) revert UntrustedKycProvider(signer);
        _useNonce(signer, a.nonce);
        if (a.wallet == address(0) || a.identity == address(0)) revert ZeroAddress();
        uint256 cur = _records[a.wallet];
        address registered = address(uint160(cur));
        uint256 w = _pack(a.identity, a.country, a.region, a.category, a.taxClass, a.kycExpiry);
        if (registered == address(0)) {
            _register(a.wallet, a.identity, w);
        } else {
            // renewal of an existing registration: same identity only
            if (registered != a.identity) revert IdentityMismatch(a.wallet, registered, a.identity);
            _forEachWallet(a.wallet, cur, w | (cur & MULTI_BIT), uint16(cur >> 160) != a.country);
        }
    }

    /// @inheritdoc IInvestorRegistry
    function cancelAttestationNonce(uint256 nonce) external {
        _useNonce(msg.sender, nonce);
    }

    /// @inheritdoc IInvestorRegistry
    function setKycProvider(address provider, bool trusted) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (provider == address(0)) revert ZeroAddress();
        bool old = _kycProviders[provider];
        _kycProviders[provider] = trusted;
        emit KycProviderSet(provider, old, trusted);
    }

    /// @inheritdoc IInvestorRegistry
    function bindToken(address token) external {
        if (!hasRole(BINDER_ROLE, msg.sender)) _checkRole(DEFAULT_ADMIN_ROLE);
        if (token == address(0)) revert ZeroAddress();
        uint256 n = _tokens.length;
        for (uint256 i; i < n; ++i) {
            if (_tokens[i] == token) revert TokenBinding(token, true);
        }
        _tokens.push(token);
        emit TokenBound(token);
    }

    /// @inheritdoc IInvestorRegistry
    function unbindToken(address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 n = _tokens.length;
        for (uint256 i; i < n; ++i) {
            if (_tokens[i] == token) {
                _tokens[i] = _tokens[n - 1];
                _tokens.pop();
                emit TokenUnbound(token);
                return;
            }
        }
        revert TokenBinding(token, false);
    }

    // ------------------------------------------------------------------ internals

    function _pack(address id, uint16 country, uint24 region, uint8 category, uint8 taxClass, uint32 kycExpiry)
        private
        pure
        returns (uint256)
    {
        return uint256(uint160(id)) | (uint256(country) << 160) | (uint256(region) << 176) | (uint256(category) << 200)
            | (uint256(taxClass) << 208) | (uint256(kycExpiry) << 216);
    }

    function _existing(address wallet) private view returns (uint256 w) {
        w = _records[wallet];
        if (w & ID_MASK == 0) revert WalletNotRegistered(wallet);
    }

    function _register(address wallet, address id, uint256 w) private {
        if (wallet == address(0) || id == address(0)) revert ZeroAddress();
        uint256 cur = _records[wallet];
        if (cur & ID_MASK != 0) revert WalletAlreadyRegistered(wallet, address(uint160(cur)));
        address[] storage list = _linked[id];
        if (list.length != 0) {
            // the identity already has several wallets: this one joins them
            _link(id, list[0], wallet, w | MULTI_BIT);
            return;
        }
        _records[wallet] = w;
        emit IdentityRegistered(wallet, id);
        emit InvestorRecordSet(wallet, id, w);
    }

    /// Adds `wallet` (record `w`, multiWallet set) to the wallets of `id` that include `existingWallet`, flags every
    /// wallet multi-wallet and lets each bound token start aggregating.
    function _link(address id, address existingWallet, address wallet, uint256 w) private {
        address[] storage list = _linked[id];
        if (list.length == 0) {
            list.push(existingWallet);
            uint256 ew = _records[existingWallet] | MULTI_BIT;
            _records[existingWallet] = ew;
            emit InvestorRecordSet(existingWallet, id, ew);
        }
        list.push(wallet);
        _records[wallet] = w;
        emit IdentityRegistered(wallet, id);
        emit InvestorRecordSet(wallet, id, w);
        emit WalletLinked(id, existingWallet, wallet);
        address[] memory wallets = list;
        uint256 n = _tokens.length;
        for (uint256 i; i < n; ++i) {
            IWalletLinkHook(_tokens[i]).onWalletsLinked(id, wallets);
        }
    }

    function _unlink(address id, address wallet) private {
        address[] storage list = _linked[id];
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            if (list[i] == wallet) {
                list[i] = list[n - 1];
                list.pop();
                return;
            }
        }
    }

    /// Writes `nw` (identity and multiWallet taken from each wallet's own word) to `wallet` and to every wallet
    /// linked with it, so all wallets of one investor keep the same country, region, category, tax class, expiry.
    function _forEachWallet(address wallet, uint256 w, uint256 nw, bool countryChanged) private {
        uint256 keep = ID_MASK | MULTI_BIT;
        address id = address(uint160(w));
        if (w & MULTI_BIT == 0) {
            _setWord(wallet, id, (nw & ~keep) | (w & keep), countryChanged);
            return;
        }
        address[] storage list = _linked[id];
        uint256 n = list.length;
        for (uint256 i; i < n; ++i) {
            address x = list[i];
            _setWord(x, id, (nw & ~keep) | (_records[x] & keep), countryChanged);
        }
    }

    function _setWord(address wallet, address id, uint256 w, bool countryChanged) private {
        _records[wallet] = w;
        if (countryChanged) emit CountryUpdated(wallet, uint16(w >> 160));
        emit InvestorRecordSet(wallet, id, w);
    }

    function _remove(address wallet) private {
        uint256 w = _existing(wallet);
        address id = address(uint160(w));
        if (w & MULTI_BIT != 0) _unlink(id, wallet);
        delete _records[wallet];
        emit IdentityRemoved(wallet, id);
        emit InvestorRecordSet(wallet, id, 0);
    }

    function _useNonce(address provider, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        uint256 word = _nonceBitmap[provider][nonce >> 8];
        if (word & bit != 0) revert AttestationNonceAlreadyUsed(provider, nonce);
        _nonceBitmap[provider][nonce >> 8] = word | bit;
        emit AttestationNonceUsed(provider, nonce);
    }
}
