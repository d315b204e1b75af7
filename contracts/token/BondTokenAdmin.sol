// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IERC1643} from "../interfaces/IERC1643.sol";
import {IBondCompliance, IBondTypes} from "../interfaces/IBondToken.sol";
import {BondTokenStorage} from "./BondTokenStorage.sol";

/// @title BondTokenAdmin
/// @notice Cold code of every bond token: compliance configuration, ERC-1643 documents and the restriction message
///         table. One instance per chain; BondToken's fallback delegatecalls it, so it runs in the token's storage
///         with the token's role checks, and its own fallback passes the payment functions on to the PaymentAgent
///         code. Calling it directly changes nothing of any token.
contract BondTokenAdmin is BondTokenStorage, IBondCompliance, IBondTypes, IERC1643, Initializable {
    /// @notice Most blackout windows a series keeps: every investor transfer checks each one.
    uint256 public constant MAX_BLACKOUTS = 16;

    address private immutable _payments;

    /// @param payments_ the PaymentAgent implementation: the series' payment code, reached through this
    ///        contract's fallback (the routing proxy sends `claim` and `claimMany` to it directly)
    constructor(address payments_) {
        if (payments_ == address(0)) revert ZeroAddress();
        _payments = payments_;
        _disableInitializers();
    }

    /// @notice Everything neither the token nor this extension implements (the payment functions) runs in the
    ///         payment code, still in the token's storage.
    fallback() external {
        _delegate(_payments);
    }

    /// @notice The PaymentAgent implementation serving the series' payment functions.
    function paymentsImplementation() external view returns (address) {
        return _payments;
    }

    /// @notice Writes the initial compliance configuration; only while the token is being initialized.
    function configureInitial(ComplianceConfig calldata c) external onlyInitializing {
        _configure(c);
    }

    function _configure(ComplianceConfig calldata c) private {
        uint256 flags;
        uint256 hot;
        if (c.maxHolders != 0) {
            flags |= F_MAX_HOLDERS;
            if (c.maxHolders > M24) revert InvalidComplianceValue(3, c.maxHolders);
            hot |= uint256(c.maxHolders) << S_MAX_HOLDERS;
        }
        if (c.maxPerInvestor != 0) {
            flags |= F_MAX_INVESTOR;
            hot |= uint256(c.maxPerInvestor) << S_CAP;
        }
        uint256 limits;
        if (c.minHolding != 0) {
            flags |= F_MIN;
            limits |= c.minHolding;
        }
        if (c.holdingMultiple > 1) {
            flags |= F_MULTIPLE;
            limits |= uint256(c.holdingMultiple) << 64;
        }
        if (c.lockUpUntil != 0) {
            flags |= F_LOCKUP;
            limits |= uint256(c.lockUpUntil) << 128;
        }
        if (limits != 0) _limits = limits;
        if (c.allowedCountries.length != 0) {
            flags |= F_COUNTRY;
            for (uint256 i; i < c.allowedCountries.length; ++i) {
                _setCountry(c.allowedCountries[i], true);
            }
        }
        if (c.regionCountries.length != c.regions.length) revert LengthMismatch(c.regionCountries.length, c.regions.length);
        if (c.regions.length != 0) {
            flags |= F_REGION;
            _hot = hot | flags;
            for (uint256 i; i < c.regions.length; ++i) {
                _setRegion(c.regionCountries[i], c.regions[i], true);
            }
            hot = _hot;
            flags = hot & M16;
        }
        if (c.blackoutStarts.length != 0) {
            flags |= F_BLACKOUT;
            _writeBlackouts(c.blackoutStarts, c.blackoutEnds);
        }
        _hot = (hot & ~M16) | flags;
    }

    /// @inheritdoc IBondCompliance
    function messageForTransferRestriction(uint8 code) external pure returns (string memory) {
        string[18] memory m = [
            "SUCCESS",
            "PAUSED",
            "SENDER_FROZEN",
            "RECEIVER_FROZEN",
            "INSUFFICIENT_UNFROZEN_BALANCE",
            "SENDER_NOT_VERIFIED",
            "RECEIVER_NOT_VERIFIED",
            "COUNTRY_NOT_ALLOWED",
            "REGION_NOT_ALLOWED",
            "MAX_HOLDERS_REACHED",
            "OVER_INVESTOR_CAP",
            "BELOW_MINIMUM_HOLDING",
            "NOT_A_MULTIPLE_OF_HOLDING_UNIT",
            "LOCKED_UP",
            "BLACKOUT_WINDOW",
            "INVALID_ADDRESS",
            "AMOUNT_TOO_LARGE",
            "SERIES_REDEEMED"
        ];
        return code < 18 ? m[code] : "UNKNOWN";
    }

    /// @inheritdoc IBondCompliance
    function complianceRules()
        external
        view
        returns (
            uint256 flags,
            uint32 holders,
            uint32 maxHolders,
            uint96 maxPerInvestor,
            uint64 minHolding,
            uint64 holdingMultiple,
            uint40 lockUpUntil
        )
    {
        uint256 hot = _hot;
        uint256 limits = _limits;
        flags = hot & M16;
        holders = uint32((hot >> S_HOLDERS) & M24);
        maxHolders = uint32((hot >> S_MAX_HOLDERS) & M24);
        maxPerInvestor = uint96(hot >> S_CAP);
        minHolding = uint64(limits);
        holdingMultiple = uint64(limits >> 64);
        lockUpUntil = uint40(limits >> 128);
    }

    /// @inheritdoc IBondCompliance
    function isCountryAllowed(uint16 country) external view returns (bool) {
        return _countryAllowed(country);
    }

    /// @inheritdoc IBondCompliance
    function isRegionAllowed(uint16 country, uint24 region) external view returns (bool) {
        uint256 hot = _hot;
        return _regionOk(hot | F_REGION_MAP, uint256(country) | (uint256(region) << 16));
    }

    /// @inheritdoc IBondCompliance
    function blackoutWindows() external view returns (uint256[] memory) {
        return _blackouts;
    }

    // ================================================================ compliance configuration

    /// @inheritdoc IBondCompliance
    function setMaxHolders(uint32 maxHolders) external {
        _only(R_ADMIN | R_COMPLIANCE);
        uint256 hot = _hot;
        if (maxHolders > M24) revert InvalidComplianceValue(3, maxHolders);
        uint256 old = (hot >> S_MAX_HOLDERS) & M24;
        hot = (hot & ~(M24 << S_MAX_HOLDERS)) | (uint256(maxHolders) << S_MAX_HOLDERS);
        _hot = maxHolders == 0 ? hot & ~F_MAX_HOLDERS : hot | F_MAX_HOLDERS;
        emit ComplianceRuleChanged(3, old, maxHolders);
    }

    /// @inheritdoc IBondCompliance
    function setMaxHoldingPerInvestor(uint96 maxPerInvestor) external {
        _only(R_ADMIN | R_COMPLIANCE);
        uint256 hot = _hot;
        uint256 old = (hot >> S_CAP) & M96;
        hot = (hot & ~(M96 << S_CAP)) | (uint256(maxPerInvestor) << S_CAP);
        _hot = maxPerInvestor == 0 ? hot & ~F_MAX_INVESTOR : hot | F_MAX_INVESTOR;
        emit ComplianceRuleChanged(4, old, maxPerInvestor);
    }

    /// @inheritdoc IBondCompliance
    function setMinimumHolding(uint64 minHolding) external {
        _only(R_ADMIN | R_COMPLIANCE);
        emit ComplianceRuleChanged(5, _setLimit(0, M64, minHolding), minHolding);
        _setFlag(F_MIN, minHolding != 0);
    }

    /// @inheritdoc IBondCompliance
    function setHoldingMultiple(uint64 multiple) external {
        _only(R_ADMIN | R_COMPLIANCE);
        emit ComplianceRuleChanged(6, _setLimit(64, M64, multiple), multiple);
        _setFlag(F_MULTIPLE, multiple > 1);
    }

    /// @inheritdoc IBondCompliance
    function setLockUpUntil(uint40 lockUpUntil) external {
        _only(R_ADMIN | R_COMPLIANCE);
        emit ComplianceRuleChanged(7, _setLimit(128, M40, lockUpUntil), lockUpUntil);
        _setFlag(F_LOCKUP, lockUpUntil != 0);
    }

    /// @inheritdoc IBondCompliance
    function setCountriesAllowed(uint16[] calldata countries, bool allowed) external {
        _only(R_ADMIN | R_COMPLIANCE);
        for (uint256 i; i < countries.length; ++i) {
            _setCountry(countries[i], allowed);
        }
    }

    /// @inheritdoc IBondCompliance
    function setCountryRestriction(bool enabled) external {
        _only(R_ADMIN | R_COMPLIANCE);
        emit ComplianceRuleChanged(1, _setFlag(F_COUNTRY, enabled) ? 1 : 0, enabled ? 1 : 0);
    }

    /// @inheritdoc IBondCompliance
    function setRegionAllowed(uint16 country, uint24 region, bool allowed) external {
        _only(R_ADMIN | R_COMPLIANCE);
        _setRegion(country, region, allowed);
    }

    /// @inheritdoc IBondCompliance
    function setRegionRestriction(bool enabled) external {
        _only(R_ADMIN | R_COMPLIANCE);
        emit ComplianceRuleChanged(2, _setFlag(F_REGION, enabled) ? 1 : 0, enabled ? 1 : 0);
    }

    /// @inheritdoc IBondCompliance
    function setBlackoutWindows(uint40[] calldata starts, uint40[] calldata ends) external {
        _only(R_ADMIN | R_COMPLIANCE);
        _writeBlackouts(starts, ends);
        _setFlag(F_BLACKOUT, starts.length != 0);
    }

    function _writeBlackouts(uint40[] calldata starts, uint40[] calldata ends) private {
        _len(starts.length, ends.length);
        if (starts.length > MAX_BLACKOUTS) revert InvalidComplianceValue(8, starts.length);
        uint256[] memory old = _blackouts;
        delete _blackouts;
        for (uint256 i; i < starts.length; ++i) {
            if (ends[i] <= starts[i]) revert InvalidComplianceValue(8, i);
            _blackouts.push(uint256(starts[i]) | (uint256(ends[i]) << 40));
        }
        emit BlackoutWindowsChanged(old, _blackouts);
    }

    function _setLimit(uint256 shift, uint256 mask, uint256 value) private returns (uint256 old) {
        uint256 limits = _limits;
        old = (limits >> shift) & mask;
        _limits = (limits & ~(mask << shift)) | (value << shift);
    }

    function _setCountry(uint16 country, bool allowed) private {
        if (country == 0 || country > 999) revert InvalidComplianceValue(1, country);
        uint256 bit = 1 << (country & 0xff);
        uint256 word = _countryBits[country >> 8];
        bool old = word & bit != 0;
        _countryBits[country >> 8] = allowed ? word | bit : word & ~bit;
        emit CountryAllowedChanged(country, old, allowed);
    }

    function _setRegion(uint16 country, uint24 region, bool allowed) private {
        if (country == 0 || country > 999) revert InvalidComplianceValue(2, country);
        uint256 pair = uint256(country) | (uint256(region) << 16);
        uint256 hot = _hot;
        bool old;
        bool inlineFree = hot >> S_PAIR == 0;
        if (hot >> S_PAIR == pair) {
            old = true;
            if (!allowed) {
                hot &= ~(M40 << S_PAIR);
                inlineFree = true;
            }
        }
        if (!old && _regionExtra[pair]) {
            old = true;
            if (!allowed) {
                _regionExtra[pair] = false;
                if (--_regionExtraCount == 0) hot &= ~F_REGION_MAP;
            }
        }
        if (allowed && !old) {
            if (inlineFree) {
                hot |= pair << S_PAIR;
            } else {
                _regionExtra[pair] = true;
                ++_regionExtraCount;
                hot |= F_REGION_MAP;
            }
        }
        _hot = hot;
        emit RegionAllowedChanged(country, region, old, allowed);
    }

    // ================================================================ documents (ERC-1643)

    /// @inheritdoc IERC1643
    function setDocument(bytes32 docName, string calldata uri, bytes32 documentHash) external {
        _only(R_DOCUMENT);
        Doc storage d = _docs[docName];
        if (d.index == 0) {
            _docNames.push(docName);
            d.index = uint128(_docNames.length);
        }
        d.uri = uri;
        d.hash = documentHash;
        d.lastModified = uint128(block.timestamp);
        emit DocumentUpdated(docName, uri, documentHash);
    }

    /// @inheritdoc IERC1643
    function removeDocument(bytes32 docName) external {
        _only(R_DOCUMENT);
        Doc storage d = _docs[docName];
        uint256 idx = d.index;
        if (idx == 0) revert DocumentNotFound(docName);
        uint256 last = _docNames.length;
        if (idx != last) {
            bytes32 moved = _docNames[last - 1];
            _docNames[idx - 1] = moved;
            _docs[moved].index = uint128(idx);
        }
        _docNames.pop();
        string memory uri = d.uri;
        bytes32 h = d.hash;
        delete _docs[docName];
        emit DocumentRemoved(docName, uri, h);
    }

    /// @inheritdoc IERC1643
    function getDocument(bytes32 docName) external view returns (string memory, bytes32, uint256) {
        Doc storage d = _docs[docName];
        if (d.index == 0) revert DocumentNotFound(docName);
        return (d.uri, d.hash, d.lastModified);
    }

    /// @inheritdoc IERC1643
    function getAllDocuments() external view returns (bytes32[] memory) {
        return _docNames;
    }
}
