// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IERC1643} from "../interfaces/IERC1643.sol";
import {IBondCompliance, IBondRetirementViews, IBondTerms, IBondTypes} from "../interfaces/IBondToken.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {BondTokenStorage} from "./BondTokenStorage.sol";

/// @title BondTokenAdmin
/// @notice Cold code of every bond token: compliance configuration, ERC-1643 documents and the restriction message
///         table. One instance per chain; BondToken's fallback delegatecalls it, so it runs in the token's storage
///         with the token's role checks, and its own fallback passes the payment functions on to the PaymentAgent
///         code. Calling it directly changes nothing of any token.
contract BondTokenAdmin is
    BondTokenStorage,
    IBondCompliance,
    IBondTerms,
    IBondRetirementViews,
    IBondTypes,
    IERC1643,
    Initializable
{
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

    // ---------------------------------------------------------------- multi-wallet investors (pull model)

    /// @notice The token's own planning of a fold of multi-wallet investors (pull model), read by the token through
    ///         its own address (no state change). A party whose registry record has the multiWallet flag belongs to
    ///         an investor this series must aggregate. Unless the party is already aggregated under that identity
    ///         at the registry's current link generation, the identity is folded: each of its wallets not
    ///         aggregated under it that holds units here (or is a party) joins the aggregate with its balance,
    ///         leaving the group it was counted in (on its own, or the aggregate of another identity), and the
    ///         holder count follows. Zero-balance wallets wait for their own first touch.
    /// @param from sending party (zero for a mint)
    /// @param to receiving party
    /// @param hot the token's hot word as the balance change sees it (its holder count)
    /// @param rf registry record of `from`
    /// @param rt registry record of `to`
    /// @param registry the token's identity registry
    /// @return plan [PLAN_HOLDERS] holder count after the fold, [PLAN_FROM_ID], [PLAN_FROM_HOLD] the aggregate
    ///         `from` is counted in and its balance (zero identity: counted on its own), [PLAN_TO_ID],
    ///         [PLAN_TO_HOLD] the same for `to`, [PLAN_COUNT] number of writes, then the writes as
    ///         (kind | address, value) pairs (P_JOIN, P_AGG, P_GEN; see BondToken._commit)
    function foldPlan(address from, address to, uint256 hot, uint256 rf, uint256 rt, address registry)
        external
        view
        returns (uint256[] memory plan)
    {
        IInvestorRegistry reg = IInvestorRegistry(registry);
        address[2] memory ids;
        uint256[2] memory keys;
        address[][2] memory lists;
        uint256 entries;
        for (uint256 side; side < 2; ++side) {
            uint256 r = side == 0 ? rf : rt;
            address id = address(uint160(r));
            if (r & MULTI_WALLET == 0 || id == ids[0]) continue;
            address party = side == 0 ? from : to;
            // slither-disable-next-line unused-return (only the link generation is needed)
            (, uint256 generation,) = reg.identityState(id);
            uint256 key = generation | (uint256(uint160(registry)) << 96);
            if (_acct[party] & AGG != 0 && _aggOf[party] == id && _aggGen[id] == key) continue;
            ids[side] = id;
            keys[side] = key;
            lists[side] = reg.linkedWallets(id);
            entries += 2 * lists[side].length + 2;
        }
        plan = new uint256[](PLAN_COUNT + 1 + 2 * entries);
        uint256 holders = (hot >> S_HOLDERS) & M24;
        for (uint256 side; side < 2; ++side) {
            if (ids[side] != address(0)) holders = _fold(from, to, plan, ids[side], keys[side], lists[side], holders);
        }
        plan[PLAN_HOLDERS] = holders;
        if (from != address(0)) (plan[PLAN_FROM_ID], plan[PLAN_FROM_HOLD]) = _counted(plan, from);
        (plan[PLAN_TO_ID], plan[PLAN_TO_HOLD]) = _counted(plan, to);
    }

    /// Folds the wallets of `id` into its aggregate in `plan`; returns the holder count after the fold.
    function _fold(
        address from,
        address to,
        uint256[] memory plan,
        address id,
        uint256 key,
        address[] memory wallets,
        uint256 holders
    ) private view returns (uint256) {
        uint256 before = _aggregate(plan, id);
        uint256 sum = before;
        for (uint256 i; i < wallets.length; ++i) {
            address w = wallets[i];
            address group = _groupOf(plan, w);
            if (group == id) continue;
            uint256 b = _acct[w] & M96;
            if (b == 0 && w != from && w != to) continue;
            if (group != address(0)) {
                uint256 held = _aggregate(plan, group);
                _put(plan, P_AGG | uint160(group), held - b);
                if (b != 0 && held == b) --holders; // that identity held nothing else here
            } else if (b != 0) {
                --holders; // the wallet was counted as a holder on its own
            }
            sum += b;
            _put(plan, P_JOIN | uint160(w), uint160(id));
        }
        if (before == 0 && sum != 0) ++holders;
        _put(plan, P_AGG | uint160(id), sum);
        _put(plan, P_GEN | uint160(id), key);
        return holders;
    }

    /// The aggregate `w` is counted in (as planned) and its balance; (0, 0) when counted on its own.
    function _counted(uint256[] memory plan, address w) private view returns (uint256, uint256) {
        address group = _groupOf(plan, w);
        return group == address(0) ? (0, 0) : (uint160(group), _aggregate(plan, group));
    }

    /// The identity whose aggregate `w` is counted in, as planned (zero when counted on its own).
    function _groupOf(uint256[] memory plan, address w) private view returns (address) {
        (bool planned, uint256 v) = _find(plan, P_JOIN | uint160(w));
        if (planned) return address(uint160(v));
        return _acct[w] & AGG != 0 ? _aggOf[w] : address(0);
    }

    /// The aggregate balance of `id`, as planned.
    function _aggregate(uint256[] memory plan, address id) private view returns (uint256) {
        (bool planned, uint256 v) = _find(plan, P_AGG | uint160(id));
        return planned ? v : _aggBalance[id];
    }

    /// Entry `k` of the plan's writes, if present.
    function _find(uint256[] memory plan, uint256 k) private pure returns (bool, uint256) {
        uint256 end = PLAN_COUNT + 1 + 2 * plan[PLAN_COUNT];
        for (uint256 i = PLAN_COUNT + 1; i < end; i += 2) {
            if (plan[i] == k) return (true, plan[i + 1]);
        }
        return (false, 0);
    }

    /// Sets entry `k` of the plan's writes to `v` (appended when new).
    function _put(uint256[] memory plan, uint256 k, uint256 v) private pure {
        uint256 end = PLAN_COUNT + 1 + 2 * plan[PLAN_COUNT];
        for (uint256 i = PLAN_COUNT + 1; i < end; i += 2) {
            if (plan[i] == k) {
                plan[i + 1] = v;
                return;
            }
        }
        plan[end] = k;
        plan[end + 1] = v;
        ++plan[PLAN_COUNT];
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

    /// @inheritdoc IBondRetirementViews
    function pendingRetirement(address holder) external view returns (uint256) {
        uint256 w = _acct[holder];
        return (w & M96) - _unitsAt(holder, w, _passedRecordTimes());
    }

    // ================================================================ ERC-7092 bond views (immutable args)

    function _terms() private view returns (BondTerms memory t) {
        (,,, t) = _args();
    }

    /// @inheritdoc IBondTerms
    function bondTerms() external view returns (BondTerms memory) {
        return _terms();
    }

    /// @inheritdoc IBondTerms
    function isin() external view returns (string memory) {
        return _terms().isin;
    }

    /// @inheritdoc IBondTerms
    function currency() external view returns (address) {
        return _terms().currency;
    }

    /// @inheritdoc IBondTerms
    function denomination() external view returns (uint256) {
        return _terms().denomination;
    }

    /// @inheritdoc IBondTerms
    function issueVolume() external view returns (uint256) {
        return _terms().issueVolume;
    }

    /// @inheritdoc IBondTerms
    uint256 public constant COUPON_RATE_SCALE = 1e8;

    /// @inheritdoc IBondTerms
    function couponRate() external view returns (uint256) {
        return _terms().couponRate;
    }

    /// @inheritdoc IBondTerms
    function couponFrequency() external view returns (uint256) {
        return _terms().couponFrequency;
    }

    /// @inheritdoc IBondTerms
    function couponType() external view returns (uint8) {
        return _terms().couponType;
    }

    /// @inheritdoc IBondTerms
    function issueDate() external view returns (uint256) {
        return _terms().issueDate;
    }

    /// @inheritdoc IBondTerms
    function maturityDate() external view returns (uint256) {
        return _terms().maturityDate;
    }

    /// @inheritdoc IBondTerms
    function dayCountBasis() external view returns (uint8) {
        return _terms().dayCountBasis;
    }
}
