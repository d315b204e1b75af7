// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IInvestorRecords} from "../interfaces/IInvestorRecords.sol";
import {IIdentityRegistry} from "../interfaces/IERC3643.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";

/// @title InvestorRegistry
/// @notice One registry per issuer, shared by all its bond series: wallet -> investor record in one storage slot,
///         identity -> wallets index in one more slot per investor.
/// @dev Record word layout (Solidity packing of InvestorRecord, low to high bits): identity [0,160),
///      country [160,176), region [176,200), category [200,208), taxClass [208,216), kycExpiry [216,248),
///      multiWallet [248,256). A wallet is verified while it has an identity and block.timestamp < kycExpiry.
///      ERC-3643 `registerIdentity` has no expiry and registers with kycExpiry = type(uint32).max.
///      Identity word layout: first wallet [0,160), wallet count [160,168), link generation [168,216), time of the
///      last decision about the identity [216,256). Every path that gives an identity a wallet while it already has
///      one links the wallet (multiWallet set on all of them, generation + 1); bond series read the flag on each
///      transfer and fold the investor's wallets into their aggregate when the generation moved (pull model: this
///      contract never calls a series, so its operations cost the same whatever the number of series).
///      There is no separate identity storage, trusted-issuers or claim-topics registry: the records live here and
///      eligibility comes from the registrar or a trusted KYC provider's EIP-712 attestation instead of ONCHAINID
///      claims, so identityStorage(), issuersRegistry() and topicsRegistry() all return address(0). (This contract
///      does not implement IIdentityRegistryStorage: its `identity`/`investorCountry` views are the reads, the
///      registrar functions the writes.) ERC-165: see supportsInterface.
contract InvestorRegistry is IInvestorRegistry, AccessControl, EIP712 {
    /// @notice Registers, updates and removes investors.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice May bind bond tokens (given to the factory).
    bytes32 public constant BINDER_ROLE = keccak256("BINDER_ROLE");
    /// @notice Most wallets one investor identity may have (a series folds all of them at its first touch).
    uint256 public constant MAX_WALLETS_PER_INVESTOR = 8;

    bytes32 private constant ATTESTATION_TYPEHASH = keccak256(
        "InvestorAttestation(address wallet,address identity,uint16 country,uint24 region,uint8 category,uint8 taxClass,uint32 kycExpiry,uint64 issuedAt,uint256 nonce,uint256 deadline)"
    );
    uint256 private constant MULTI_BIT = 1 << 248;
    uint256 private constant ID_MASK = (1 << 160) - 1;
    uint256 private constant S_COUNT = 160;
    uint256 private constant S_GEN = 168;
    uint256 private constant S_DECIDED = 216;
    uint256 private constant M8 = 0xff;
    uint256 private constant M48 = (1 << 48) - 1;

    mapping(address wallet => uint256) private _records;
    /// first wallet [0,160) | wallet count [160,168) | link generation [168,216) | last decision time [216,256)
    mapping(address identity => uint256) private _ids;
    /// the wallets of a multi-wallet investor other than the first (count - 1 of them)
    mapping(address identity => address[]) private _others;
    /// time the registrar removed the wallet (attestations issued before it cannot bring it back)
    mapping(address wallet => uint256) private _removedAt;
    mapping(address provider => bool) private _kycProviders;
    mapping(address provider => mapping(uint256 word => uint256)) private _nonceBitmap;
    mapping(address token => bool) private _bound;

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
    function linkedWallets(address identity_) external view returns (address[] memory wallets) {
        uint256 iw = _ids[identity_];
        uint256 count = (iw >> S_COUNT) & M8;
        wallets = new address[](count);
        // slither-disable-next-line incorrect-equality (a wallet count, not a balance)
        if (count == 0) return wallets;
        wallets[0] = address(uint160(iw));
        address[] storage others = _others[identity_];
        for (uint256 i = 1; i < count; ++i) {
            wallets[i] = others[i - 1];
        }
    }

    /// @inheritdoc IInvestorRegistry
    function identityState(address identity_)
        external
        view
        returns (uint256 walletCount, uint256 generation, uint256 decidedAt)
    {
        uint256 iw = _ids[identity_];
        return ((iw >> S_COUNT) & M8, (iw >> S_GEN) & M48, iw >> S_DECIDED);
    }

    /// @inheritdoc IInvestorRegistry
    function lastDecisionTime(address wallet, address identity_) public view returns (uint256 time) {
        time = _ids[identity_] >> S_DECIDED;
        if (_records[wallet] & ID_MASK == 0) {
            uint256 removed = _removedAt[wallet];
            if (removed > time) time = removed;
        }
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
    function isTokenBound(address token) external view returns (bool) {
        return _bound[token];
    }

    /// @notice No separate ERC-3643 identity registry storage (zero): the records live in this contract, which does
    ///         not implement IIdentityRegistryStorage; read them with `identity`, `investorCountry` and
    ///         `investorRecord`.
    function identityStorage() external pure returns (address) {
        return address(0);
    }

    /// @notice No ONCHAINID claim checking: eligibility comes from registrars and KYC attestations (zero).
    function issuersRegistry() external pure returns (address) {
        return address(0);
    }

    /// @notice No ONCHAINID claim topics (zero); see issuersRegistry.
    function topicsRegistry() external pure returns (address) {
        return address(0);
    }

    /// @notice ERC-165: true for IERC165 (0x01ffc9a7), IAccessControl (0x7965db0b), the ERC-3643
    ///         IIdentityRegistry (0x8ff89f73: its 15 normative functions), IInvestorRecords and IInvestorRegistry.
    ///         Not IIdentityRegistryStorage (see identityStorage).
    /// @dev The IInvestorRegistry id covers its whole function surface, inherited functions included (as if all
    ///      were declared in it): the XOR of the three Solidity ids, where `isVerified`, declared in all three,
    ///      counts once.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        bytes4 investorRegistry = type(IInvestorRegistry).interfaceId ^ type(IIdentityRegistry).interfaceId
            ^ type(IInvestorRecords).interfaceId;
        return interfaceId == investorRegistry || interfaceId == type(IIdentityRegistry).interfaceId
            || interfaceId == type(IInvestorRecords).interfaceId || super.supportsInterface(interfaceId);
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
                    a.issuedAt,
                    a.nonce,
                    a.deadline
                )
            )
        );
    }

    // ------------------------------------------------------------------ ERC-3643 registry writes

    /// @notice Accepts only address(0) (no separate identity storage, see identityStorage); admin.
    function setIdentityRegistryStorage(address storage_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (storage_ != address(0)) revert UnsupportedComponent(storage_);
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
    ///         A wallet registered under an identity that already has a wallet is linked to it (see linkWallet).
    function registerIdentity(address wallet, address identity_, uint16 country) external onlyRole(REGISTRAR_ROLE) {
        _register(wallet, identity_, _pack(identity_, country, 0, 0, 0, type(uint32).max), address(0), block.timestamp);
    }

    /// @notice ERC-3643 batch registration (see registerIdentity).
    function batchRegisterIdentity(address[] calldata wallets, address[] calldata identities, uint16[] calldata countries)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        if (wallets.length != identities.length) revert LengthMismatch(wallets.length, identities.length);
        if (wallets.length != countries.length) revert LengthMismatch(wallets.length, countries.length);
        for (uint256 i; i < wallets.length; ++i) {
            _register(
                wallets[i],
                identities[i],
                _pack(identities[i], countries[i], 0, 0, 0, type(uint32).max),
                address(0),
                block.timestamp
            );
        }
    }

    /// @inheritdoc IIdentityRegistry
    function updateCountry(address wallet, uint16 country) external onlyRole(REGISTRAR_ROLE) {
        uint256 w = _existing(wallet);
        _forEachWallet(wallet, w, (w & ~(uint256(0xffff) << 160)) | (uint256(country) << 160), true, block.timestamp);
    }

    /// @notice Moves `wallet` to another identity. It leaves the wallets of its former identity (a series that
    ///         aggregated it there keeps it there) and, when the new identity already has wallets, is linked to
    ///         them like linkWallet does (every series folds it into that investor's aggregate).
    function updateIdentity(address wallet, address newIdentity) external onlyRole(REGISTRAR_ROLE) {
        if (newIdentity == address(0)) revert ZeroAddress();
        uint256 w = _existing(wallet);
        address old = address(uint160(w));
        if (old != newIdentity) {
            _leave(wallet, w, block.timestamp);
            _place(wallet, newIdentity, (w & ~(ID_MASK | MULTI_BIT)) | uint160(newIdentity), address(0), block.timestamp);
        }
        emit IdentityUpdated(old, newIdentity);
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
        _register(
            wallet,
            identity_,
            _pack(identity_, country, region, category, taxClass, kycExpiry),
            address(0),
            block.timestamp
        );
    }

    /// @inheritdoc IInvestorRegistry
    function batchRegisterInvestors(InvestorInput[] calldata investors) external onlyRole(REGISTRAR_ROLE) {
        for (uint256 i; i < investors.length; ++i) {
            InvestorInput calldata x = investors[i];
            _register(
                x.wallet,
                x.identity,
                _pack(x.identity, x.country, x.region, x.category, x.taxClass, x.kycExpiry),
                address(0),
                block.timestamp
            );
        }
    }

    /// @inheritdoc IInvestorRegistry
    function batchRegisterPacked(address[] calldata wallets, uint256[] calldata packed) external onlyRole(REGISTRAR_ROLE) {
        if (wallets.length != packed.length) revert LengthMismatch(wallets.length, packed.length);
        for (uint256 i; i < wallets.length; ++i) {
            uint256 w = packed[i];
            if (w >> 248 != 0) revert InvalidPackedRecord(i, w);
            _register(wallets[i], address(uint160(w)), w, address(0), block.timestamp);
        }
    }

    /// @inheritdoc IInvestorRegistry
    function updateInvestor(address wallet, uint16 country, uint24 region, uint8 category, uint8 taxClass, uint32 kycExpiry)
        external
        onlyRole(REGISTRAR_ROLE)
    {
        uint256 w = _existing(wallet);
        uint16 oldCountry = uint16(w >> 160);
        uint256 nw = _pack(address(uint160(w)), country, region, category, taxClass, kycExpiry);
        _forEachWallet(wallet, w, nw, oldCountry != country, block.timestamp);
    }

    /// @inheritdoc IInvestorRegistry
    function linkWallet(address existingWallet, address wallet) external onlyRole(REGISTRAR_ROLE) {
        uint256 w = _existing(existingWallet);
        _register(wallet, address(uint160(w)), w & ~MULTI_BIT, existingWallet, block.timestamp);
    }

    /// @inheritdoc IInvestorRegistry
    function removeInvestor(address wallet) external onlyRole(REGISTRAR_ROLE) {
        _remove(wallet);
    }

    /// @inheritdoc IInvestorRegistry
    function registerWithAttestation(InvestorAttestation calldata a, bytes calldata signature) external {
        if (block.timestamp > a.deadline) revert AttestationExpired(a.deadline, block.timestamp);
        if (a.issuedAt > block.timestamp) revert AttestationNotYetIssued(a.issuedAt, block.timestamp);
        address signer = ECDSA.recover(attestationDigest(a), signature);
        if (!_kycProviders[signer]) revert UntrustedKycProvider(signer);
        _useNonce(signer, a.nonce);
        if (a.wallet == address(0) || a.identity == address(0)) revert ZeroAddress();
        // a registrar's decision (or a newer attestation) about the wallet or its identity wins over it
        uint256 decided = lastDecisionTime(a.wallet, a.identity);
        if (a.issuedAt <= decided) revert AttestationSuperseded(a.wallet, a.issuedAt, decided);
        uint256 cur = _records[a.wallet];
        address registered = address(uint160(cur));
        uint256 w = _pack(a.identity, a.country, a.region, a.category, a.taxClass, a.kycExpiry);
        if (registered == address(0)) {
            // a new wallet: the investor's first, or linked to the wallets it already has
            _register(a.wallet, a.identity, w, address(0), a.issuedAt);
        } else {
            // renewal of an existing registration: same identity only
            if (registered != a.identity) revert IdentityMismatch(a.wallet, registered, a.identity);
            _forEachWallet(a.wallet, cur, w, uint16(cur >> 160) != a.country, a.issuedAt);
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
        if (_bound[token]) revert TokenBinding(token, true);
        _bound[token] = true;
        emit TokenBound(token);
    }

    /// @inheritdoc IInvestorRegistry
    function unbindToken(address token) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (!_bound[token]) revert TokenBinding(token, false);
        _bound[token] = false;
        emit TokenUnbound(token);
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

    /// Registers the unregistered `wallet` under `id` with record `w` (multiWallet clear), decided at `time`.
    function _register(address wallet, address id, uint256 w, address existingWallet, uint256 time) private {
        if (wallet == address(0) || id == address(0)) revert ZeroAddress();
        uint256 cur = _records[wallet];
        if (cur & ID_MASK != 0) revert WalletAlreadyRegistered(wallet, address(uint160(cur)));
        emit IdentityRegistered(wallet, id);
        _place(wallet, id, w, existingWallet, time);
    }

    /// Gives identity `id` the wallet `wallet` with record `w` (identity `id`, multiWallet clear). The identity's
    /// first wallet is only indexed; a further one is linked: every wallet of the investor gets multiWallet and the
    /// link generation moves on, so each series folds the wallets into its aggregate at its next touch.
    function _place(address wallet, address id, uint256 w, address existingWallet, uint256 time) private {
        uint256 iw = _ids[id];
        uint256 count = (iw >> S_COUNT) & M8;
        // slither-disable-next-line incorrect-equality (a wallet count, not a balance)
        if (count == 0) {
            _records[wallet] = w;
            _ids[id] = (iw & (M48 << S_GEN)) | uint160(wallet) | (1 << S_COUNT) | (time << S_DECIDED);
            emit InvestorRecordSet(wallet, id, w);
            return;
        }
        if (count >= MAX_WALLETS_PER_INVESTOR) revert TooManyWallets(id, MAX_WALLETS_PER_INVESTOR);
        address first = address(uint160(iw));
        // slither-disable-next-line incorrect-equality (a wallet count, not a balance)
        if (count == 1) {
            uint256 fw = _records[first] | MULTI_BIT;
            _records[first] = fw;
            emit InvestorRecordSet(first, id, fw);
        }
        _others[id].push(wallet);
        w |= MULTI_BIT;
        _records[wallet] = w;
        uint256 generation = ((iw >> S_GEN) & M48) + 1;
        _ids[id] = uint160(first) | ((count + 1) << S_COUNT) | (generation << S_GEN) | (time << S_DECIDED);
        emit InvestorRecordSet(wallet, id, w);
        emit WalletLinked(id, existingWallet == address(0) ? first : existingWallet, wallet);
    }

    /// Takes `wallet` (record `w`) out of its identity's wallets; the last one left loses multiWallet.
    function _leave(address wallet, uint256 w, uint256 time) private {
        address id = address(uint160(w));
        uint256 iw = _ids[id];
        uint256 count = (iw >> S_COUNT) & M8;
        address first = address(uint160(iw));
        if (count > 1) {
            address[] storage others = _others[id];
            uint256 last = others.length - 1;
            if (first == wallet) {
                first = others[last];
            } else {
                for (uint256 i; i < last; ++i) {
                    if (others[i] == wallet) {
                        others[i] = others[last];
                        break;
                    }
                }
            }
            others.pop();
            // slither-disable-next-line incorrect-equality (a wallet count, not a balance)
            if (count == 2) {
                uint256 fw = _records[first] & ~MULTI_BIT;
                _records[first] = fw;
                emit InvestorRecordSet(first, id, fw);
            }
        } else {
            first = address(0);
        }
        _ids[id] = (iw & (M48 << S_GEN)) | uint160(first) | ((count - 1) << S_COUNT) | (time << S_DECIDED);
    }

    /// Writes `nw` (identity and multiWallet taken from each wallet's own word) to `wallet` and to every wallet
    /// linked with it, so all wallets of one investor keep the same country, region, category, tax class, expiry;
    /// records the decision time.
    function _forEachWallet(address wallet, uint256 w, uint256 nw, bool countryChanged, uint256 time) private {
        uint256 keep = ID_MASK | MULTI_BIT;
        address id = address(uint160(w));
        uint256 iw = _ids[id];
        _ids[id] = (iw & ~(uint256(type(uint40).max) << S_DECIDED)) | (time << S_DECIDED);
        if (w & MULTI_BIT == 0) {
            _setWord(wallet, id, (nw & ~keep) | (w & keep), countryChanged);
            return;
        }
        address first = address(uint160(iw));
        _setWord(first, id, (nw & ~keep) | (_records[first] & keep), countryChanged);
        address[] storage others = _others[id];
        uint256 n = others.length;
        for (uint256 i; i < n; ++i) {
            address x = others[i];
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
        _leave(wallet, w, block.timestamp);
        delete _records[wallet];
        _removedAt[wallet] = block.timestamp;
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
