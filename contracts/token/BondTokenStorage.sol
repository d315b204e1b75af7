// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IBondRecordDates} from "../interfaces/IBondRecordDates.sol";
import {IBondErrors, IBondTypes} from "../interfaces/IBondToken.sol";

/// @title BondTokenStorage
/// @notice Storage layout, packing constants and small helpers shared by BondToken, its admin extension
///         BondTokenAdmin and the series' payment code PaymentAgent (both run by delegatecall in the series'
///         storage; PaymentAgent's own state follows this layout). Append-only: never reorder.
/// @dev Layout (see docs/architecture.md):
///      _hot   flags [0,16) | holderCount [16,40) | maxHolders [40,64) | nextRecordTime [64,104) |
///             recordIndex [104,120) | maxPerInvestor [120,216) | inline (country | region << 16) pair [216,256)
///      _cfg   registry override [0,160), read only when flag F_REGISTRY is set; otherwise the registry is the
///             first word of the clone's immutable args (saves a cold SLOAD on every transfer)
///      _limits minHolding [0,64) | holdingMultiple [64,128) | lockUpUntil [128,168)
///      account word: balance [0,96) | snapshot balance [96,192) | snapshot index + 1 [192,208) |
///             epoch (record times passed at the last balance change) [208,224) | frozen 224 | partial 225 | agg 226 |
///             settlement bits of the series' payment code [227,256) (written only by PaymentAgent, which runs in
///             this storage; preserved by every other write of the word)
///      _history[a][k] spilled segments, two per word: (record index [0,16) | balance [16,112)) at [0,112) and
///             [112,224); word 0 keeps the entry count in [224,256)
abstract contract BondTokenStorage is IBondErrors {
    uint256 internal constant R_ADMIN = 1;
    uint256 internal constant R_TRANSFER_AGENT = 2;
    uint256 internal constant R_FREEZER = 4;
    uint256 internal constant R_MINTER = 8;
    uint256 internal constant R_DOCUMENT = 16;
    uint256 internal constant R_COMPLIANCE = 32;
    uint256 internal constant R_PAYER = 64;
    uint256 internal constant R_AGENT = R_TRANSFER_AGENT | R_FREEZER | R_MINTER;

    // ---------------------------------------------------------------- packed words
    uint256 internal constant M16 = 0xffff;
    uint256 internal constant M24 = 0xffffff;
    uint256 internal constant M32 = 0xffffffff;
    uint256 internal constant M40 = 0xffffffffff;
    uint256 internal constant M64 = 0xffffffffffffffff;
    uint256 internal constant M96 = (1 << 96) - 1;
    uint256 internal constant M160 = (1 << 160) - 1;

    uint256 internal constant F_PAUSED = 1;
    uint256 internal constant F_COUNTRY = 2;
    uint256 internal constant F_REGION = 4;
    uint256 internal constant F_REGION_MAP = 8;
    uint256 internal constant F_MAX_HOLDERS = 16;
    uint256 internal constant F_MAX_INVESTOR = 32;
    uint256 internal constant F_MIN = 64;
    uint256 internal constant F_MULTIPLE = 128;
    uint256 internal constant F_LOCKUP = 256;
    uint256 internal constant F_BLACKOUT = 512;
    uint256 internal constant F_REGISTRY = 1024;
    uint256 internal constant F_CLOSES = 2048;
    uint256 internal constant F_PAYMENTS = 4096; // the series has payment code (set at initialization)
    uint256 internal constant F_RETIRED = 8192; // a record time that retires units has passed (set by the roll)
    uint256 internal constant S_HOLDERS = 16;
    uint256 internal constant S_MAX_HOLDERS = 40;
    uint256 internal constant S_NEXT = 64;
    uint256 internal constant S_INDEX = 104;
    uint256 internal constant S_CAP = 120;
    uint256 internal constant S_PAIR = 216;

    // account word: balance [0,96) | snapBalance [96,192) | snapIndex+1 [192,208) | epoch [208,224) |
    //               frozen bit 224 | partial-freeze bit 225 | aggregated bit 226
    uint256 internal constant FROZEN = 1 << 224;
    uint256 internal constant PARTIAL = 1 << 225;
    uint256 internal constant AGG = 1 << 226;
    uint256 internal constant S_SETTLED = 227;
    uint256 internal constant SETTLED_BITS = 29;

    // registry aggregation (pull model): the multiWallet flag of a registry record, and the kinds of the entries
    // of a fold plan (pairs of words: kind | address, value; see BondTokenAdmin.foldPlan and BondToken._commit)
    uint256 internal constant MULTI_WALLET = 1 << 248;
    uint256 internal constant P_JOIN = 1 << 160; // (wallet, identity): the wallet joins the identity's aggregate
    uint256 internal constant P_AGG = 2 << 160; // (identity, aggregate): the identity's new aggregate balance
    uint256 internal constant P_GEN = 3 << 160; // (identity, key): the registry generation key folded
    uint256 internal constant PLAN_HOLDERS = 0; // plan header: holder count after the fold
    uint256 internal constant PLAN_FROM_ID = 1; // aggregate the sender is counted in (0: on its own)
    uint256 internal constant PLAN_FROM_HOLD = 2; // and its balance
    uint256 internal constant PLAN_TO_ID = 3; // the same for the receiver
    uint256 internal constant PLAN_TO_HOLD = 4;
    uint256 internal constant PLAN_COUNT = 5; // number of (kind | address, value) pairs that follow

    /// @dev Byte offset of the immutable args in a series' code: they follow BondFactory's 98-byte
    ///      selector-routing proxy (`abi.encode(registry, paymentToken, name, symbol, decimals, terms)`).
    uint256 internal constant ARGS_OFFSET = 0x62;

    // balance-change modes
    uint256 internal constant M_TRANSFER = 0;
    uint256 internal constant M_MINT = 1;
    uint256 internal constant M_BURN = 2;
    uint256 internal constant M_FORCED = 3;
    uint256 internal constant M_RECOVERY = 4;

    // restriction codes
    uint8 internal constant C_PAUSED = 1;
    uint8 internal constant C_SENDER_FROZEN = 2;
    uint8 internal constant C_RECEIVER_FROZEN = 3;
    uint8 internal constant C_BALANCE = 4;
    uint8 internal constant C_SENDER_UNVERIFIED = 5;
    uint8 internal constant C_RECEIVER_UNVERIFIED = 6;
    uint8 internal constant C_COUNTRY = 7;
    uint8 internal constant C_REGION = 8;
    uint8 internal constant C_MAX_HOLDERS = 9;
    uint8 internal constant C_CAP = 10;
    uint8 internal constant C_MIN = 11;
    uint8 internal constant C_MULTIPLE = 12;
    uint8 internal constant C_LOCKUP = 13;
    uint8 internal constant C_BLACKOUT = 14;
    uint8 internal constant C_ADDRESS = 15;
    uint8 internal constant C_TOO_LARGE = 16;
    uint8 internal constant C_REDEEMED = 17;

    struct Ctx {
        address from;
        address to;
        uint256 amount;
        uint256 mode;
        uint256 hot;
        uint256 cfg;
        uint256 af;
        uint256 at;
        uint256 rf;
        uint256 rt;
        uint256 frozenFrom;
        address aggFrom;
        address aggTo;
        uint256 holdFrom;
        uint256 holdTo;
        uint256 holders;
        bool holdersChanged;
    }

    struct Doc {
        string uri;
        bytes32 hash;
        uint128 lastModified;
        uint128 index; // 1-based position in _docNames
    }

    // ---------------------------------------------------------------- storage
    uint256 internal _hot;
    uint256 internal _cfg; // registry [0,160) | maxPerInvestor [160,256)
    uint256 internal _limits; // minHolding [0,64) | holdingMultiple [64,128) | lockUpUntil [128,168)
    uint256 internal _totalSupply;
    mapping(address => uint256) internal _acct;
    mapping(address => uint256) internal _frozenTokens;
    mapping(address => mapping(address => uint256)) internal _allowances;
    mapping(address => uint256) internal _roleBits;
    mapping(address wallet => address identity) internal _aggOf;
    mapping(address identity => uint256) internal _aggBalance;
    mapping(address => mapping(uint256 => uint256)) internal _history; // packed spilled segments, see _spill
    uint256[] internal _schedule; // time [0,40) | supply-recorded bit 40 | supply [41,137)
    mapping(uint256 => uint256) internal _countryBits;
    mapping(uint256 pair => bool) internal _regionExtra;
    uint256 internal _regionExtraCount;
    uint256[] internal _blackouts; // start [0,40) | end [40,80)
    address internal _owner;
    address internal _onchainID;
    string internal _nameOverride;
    string internal _symbolOverride;
    mapping(bytes32 => Doc) internal _docs;
    bytes32[] internal _docNames;
    // retirement at record times (written by the payment code with the record times; see _unitsAt)
    uint256 internal _retiringIndexes; // bit i: the record time at schedule index i retires units
    mapping(uint256 recordTime => uint256) internal _retirementAt; // redeemNum [0,64) | redeemDen [64,128)
    // registry aggregation (pull model): per identity, the registry link generation this series last folded
    // [0,96) and that registry's address [96,256) (see BondToken._stale)
    mapping(address identity => uint256) internal _aggGen;

    /// Sets or clears `flag` in the hot word; returns whether it was set before.
    function _setFlag(uint256 flag, bool on) internal returns (bool old) {
        uint256 hot = _hot;
        old = hot & flag != 0;
        _hot = on ? hot | flag : hot & ~flag;
    }

    function _only(uint256 mask) internal view {
        if (_roleBits[msg.sender] & mask == 0) revert MissingRole(msg.sender, mask);
    }

    /// Runs the call in `implementation` in this storage and returns or reverts with its result (fallbacks).
    function _delegate(address implementation) internal {
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), implementation, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    /// The series' admin, or its own payment code (which reaches token functions through a call to this address).
    function _onlyAdminOrPayments() internal view {
        if (msg.sender != address(this)) _only(R_ADMIN);
    }

    function _len(uint256 a, uint256 b) internal pure {
        if (a != b) revert LengthMismatch(a, b);
    }

    function _countryAllowed(uint256 country) internal view returns (bool) {
        return (_countryBits[country >> 8] >> (country & 0xff)) & 1 == 1;
    }

    function _regionOk(uint256 hot, uint256 pair) internal view returns (bool) {
        if (pair & M16 == 0) return false;
        if (hot >> S_PAIR == pair) return true;
        return hot & F_REGION_MAP != 0 && _regionExtra[pair];
    }

    /// The series' immutable args after the registry and the payment token: name, symbol, decimals and the
    /// ERC-7092 bond terms (BondFactory's `abi.encode(registry, paymentToken, name, symbol, decimals, terms)`).
    function _args() internal view returns (string memory, string memory, uint8, IBondTypes.BondTerms memory) {
        bytes memory args;
        assembly ("memory-safe") {
            let size := sub(extcodesize(address()), ARGS_OFFSET)
            args := mload(0x40)
            mstore(args, size)
            extcodecopy(address(), add(args, 32), ARGS_OFFSET, size)
            mstore(0x40, and(add(add(args, 63), size), not(31)))
        }
        (,, string memory n, string memory s, uint8 d, IBondTypes.BondTerms memory t) =
            abi.decode(args, (address, address, string, string, uint8, IBondTypes.BondTerms));
        return (n, s, d, t);
    }

    // ---------------------------------------------------------------- record-date balances (token and payments)

    /// Balance in the packed history at record index `i`: the latest entry starting at or before `i` (0 before
    /// the first). Binary search over the words by their first entry's index.
    function _historyAt(address holder, uint256 i) internal view returns (uint256) {
        mapping(uint256 => uint256) storage h = _history[holder];
        uint256 w = h[0];
        uint256 n = w >> 224;
        if (n == 0 || w & M16 > i) return 0;
        uint256 lo;
        uint256 hi = (n + 1) >> 1;
        while (hi - lo > 1) {
            uint256 mid = (lo + hi) >> 1;
            if (h[mid] & M16 <= i) lo = mid;
            else hi = mid;
        }
        if (lo != 0) w = h[lo];
        if (2 * lo + 1 < n && (w >> 112) & M16 <= i) return (w >> 128) & M96;
        return (w >> 16) & M96;
    }

    function _recordIndex(uint256 time) internal view returns (uint256) {
        if (time >= block.timestamp) revert IBondRecordDates.RecordTimeNotPassed(time, block.timestamp);
        uint256 lo;
        uint256 hi = _schedule.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            uint256 t = _schedule[mid] & M40;
            if (t == time) return mid;
            if (t < time) lo = mid + 1;
            else hi = mid;
        }
        revert IBondRecordDates.UnknownRecordTime(time);
    }

    /// Units of `holder` at record time `time` (a scheduled, passed record time), net of earlier retirements.
    function _balanceOfAt(address holder, uint256 time) internal view returns (uint256) {
        return _unitsAt(holder, _acct[holder], _recordIndex(time));
    }

    /// Total supply at the record time with schedule index `i` (recorded by the first change after it).
    function _supplyAt(uint256 i) internal view returns (uint256) {
        uint256 s = _schedule[i];
        return (s >> 40) & 1 == 1 ? s >> 41 : _totalSupply;
    }

    // ---------------------------------------------------------------- retirement at record times

    /// Schedule indexes in [from, to) whose record time retires units, as a bitmap (indexes stay below 256: a
    /// series with payment code has at most 256 record times).
    function _retiringBetween(uint256 from, uint256 to) internal view returns (uint256 bits) {
        if (from >= to || from >= 256) return 0;
        bits = _retiringIndexes;
        if (bits == 0) return 0;
        if (to < 256) bits &= (1 << to) - 1;
        bits &= ~((1 << from) - 1);
    }

    /// Units retired out of `units` held at the record time with schedule index `i` (a retiring index): floored
    /// per holder, as the payment code prices them.
    function _retiredAt(uint256 units, uint256 i) internal view returns (uint256) {
        uint256 f = _retirementAt[_schedule[i] & M40];
        return units * (f & M64) / ((f >> 64) & M64);
    }

    /// Index of the lowest set bit of a non-zero `bits`.
    function _lowestBit(uint256 bits) internal pure returns (uint256 i) {
        while (bits & 1 == 0) {
            bits >>= 1;
            ++i;
        }
    }

    /// Number of scheduled record times passed now (the cursor as a roll would leave it).
    function _passedRecordTimes() internal view returns (uint256 idx) {
        uint256 hot = _hot;
        idx = (hot >> S_INDEX) & M16;
        uint256 next = (hot >> S_NEXT) & M40;
        if (next == 0 || block.timestamp <= next) return idx;
        uint256 n = _schedule.length;
        while (idx < n && _schedule[idx] & M40 < block.timestamp) ++idx;
    }

    /// Units of `holder` (account word `w`) at the record time with schedule index `i`, net of every retirement
    /// at an earlier record time: the balance history once the token has burned them (`_applyRetirements` writes
    /// the history as of each retiring record time), and before that the stored balance reduced in record order.
    function _unitsAt(address holder, uint256 w, uint256 i) internal view returns (uint256 units) {
        units = _balanceAt(holder, w, i);
        uint256 bits = _retiringBetween((w >> 208) & M16, i);
        while (bits != 0) {
            units -= _retiredAt(units, _lowestBit(bits));
            bits &= bits - 1;
        }
    }

    /// Balance of `holder` (account word `w`) at the record time with schedule index `i`.
    function _balanceAt(address holder, uint256 w, uint256 i) internal view returns (uint256) {
        if (i >= (w >> 208) & M16) return w & M96;
        uint256 snap1 = (w >> 192) & M16;
        if (snap1 != 0 && i + 1 >= snap1) return (w >> 96) & M96;
        return _historyAt(holder, i);
    }
}
