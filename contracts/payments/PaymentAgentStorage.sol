// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IBondRecordDates} from "../interfaces/IBondRecordDates.sol";
import {IBondRedemption} from "../interfaces/IBondRedemption.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IPaymentAgentTypes} from "../interfaces/IPaymentAgent.sol";
import {BondTokenStorage} from "../token/BondTokenStorage.sol";

/// @title PaymentAgentStorage
/// @notice State and shared internals of a series' payment code, used by PaymentAgent (the money paths) and
///         PaymentAgentAdmin (schedule and tax administration, views). Both run by delegatecall in the series'
///         storage, after the token's state (BondTokenStorage first in the inheritance). Append-only.
/// @dev Roles are the token's: DEFAULT_ADMIN_ROLE and PAYER_ROLE granted on the series. Settlement flags of
///      periods 0..TOKEN_SETTLED_PERIODS-1 live in spare bits of the holder's account word (marked in the same
///      access that reads the record-date units); later periods use one bitmap word per holder here. Period ids
///      are limited to MAX_PERIODS.
abstract contract PaymentAgentStorage is BondTokenStorage, IPaymentAgentTypes {
    /// @notice Maximum number of periods (coupons, amortizations, calls) of a series.
    uint256 public constant MAX_PERIODS = 256;
    /// @notice Maximum holders per push or off-chain batch.
    uint256 public constant MAX_BATCH = 500;
    /// @notice Maximum withholding components per tax class.
    uint256 public constant MAX_TAX_COMPONENTS = 4;
    uint256 internal constant PPM = 1_000_000;
    /// @dev Periods whose settlement flag is kept in the token's account word (its 29 spare bits).
    uint256 internal constant TOKEN_SETTLED_PERIODS = 29;
    uint256 internal constant ID_MASK = (1 << 160) - 1;
    /// @dev Tax words of a class: word k holds components 2k and 2k+1, each a 32-bit rate (ppm) at [0,32) and
    ///      [32,64) and a 94-bit accrued amount (withheld, not yet transferred) at [64,158) and [158,252); word 0
    ///      keeps the component count at [252,256). Rates and accrual share the word, so a payment reads one slot
    ///      per class (two past two components) and accruing never writes a fresh slot.
    uint256 internal constant M88 = (1 << 88) - 1;
    uint256 internal constant M112 = (1 << 112) - 1;
    uint256 internal constant M94 = (1 << 94) - 1;
    uint256 internal constant DUE_SHIFT = 64;
    uint256 internal constant DUE_WIDTH = 94;
    uint256 internal constant COUNT_SHIFT = 252;
    uint256 internal constant DUES = ((1 << 188) - 1) << 64;
    /// @dev Period flags (`Period.flags`).
    uint16 internal constant P_CANCELLED = 1;
    uint16 internal constant P_DEFAULTED = 2;
    uint16 internal constant P_CLOSED = 4;
    uint16 internal constant P_COVERED = 8; // funded + offchainGross reached required (monotone: set once)
    uint16 internal constant P_PRINCIPAL = 16;
    uint16 internal constant P_WIDE_COUPON = 32;
    uint16 internal constant P_REDEEMS = 64;
    uint16 internal constant P_REQUIRED_KNOWN = 128;
    /// @dev A record time before this period's retires units: holders' units at its record time are computed net
    ///      of those retirements (`_unitsAt`), so the claim's straight path does not serve it. Set with `required`.
    uint16 internal constant P_AFTER_RETIREMENT = 256;

    /// @dev Eight slots, each written only when it carries information. Slot 0 holds the times, the flags and
    ///      the coupon rational when it fits 88/72 bits, so a claim on a covered coupon period reads two slots:
    ///      that word and `held` + `recordIndex` + `taxWithheld`. A wider coupon rational lives in slot 1 (`P_WIDE_COUPON`), the
    ///      principal in slot 2 (`P_PRINCIPAL`; a zero principal reads back as 0/1) and the redeemed fraction in
    ///      slot 3 beside `reclaimAfter` (`P_REDEEMS`: anything but 0/1). Times are bounded to 40 bits
    ///      (`_checkTerms`) and a scheduled payment time is never zero, which tells known periods from unknown.
    ///      `held` is the funding not yet assigned to a holder; the net paid is derived:
    ///      funded - held - taxWithheld - escrowed - reclaimed. `recordIndex` is the record time's index in the
    ///      token's schedule, stored with `required` once the record time has passed (P_REQUIRED_KNOWN); passed
    ///      record times never move in the schedule, so a payment reads the holder's record-date units without
    ///      searching it.
    struct Period {
        uint40 recordTime;
        uint40 paymentTime;
        uint16 flags; // P_*
        uint88 couponNum;
        uint72 couponDen;
        uint128 wideCouponNum;
        uint128 wideCouponDen;
        uint128 principalNum;
        uint128 principalDen;
        uint64 redeemNum;
        uint64 redeemDen;
        uint64 reclaimAfter;
        uint128 required; // valid when P_REQUIRED_KNOWN
        uint128 funded;
        uint128 escrowed;
        uint128 reclaimed;
        uint112 held;
        uint16 recordIndex; // valid when P_REQUIRED_KNOWN
        uint128 taxWithheld;
        uint128 offchainGross;
    }

    /// @dev Gross entitlement held for a frozen or unverified holder, split so release can withhold on the coupon.
    struct Escrow {
        uint128 couponGross;
        uint128 principalGross;
    }

    // The registry and the payment token are the series' immutable args (`_registry()`, `_paymentToken()`): a
    // claim reads no configuration slot.
    uint16 internal _periodCount; // <= MAX_PERIODS
    uint8 internal _lock; // 1 = free, 2 = entered (set in initialize)
    uint16 internal _openDefaults; // <= MAX_PERIODS
    address internal _taxAccount;
    uint64 internal _reclaimDelay;
    uint64 internal _callNotice;
    bytes32 internal _termSheetHash;
    mapping(uint256 period => Period) internal _periods;
    mapping(uint8 taxClass => TaxComponent[]) internal _taxClasses;
    mapping(uint8 taxClass => uint256[2]) internal _taxWords; // rates, accrued withholding, count (see M94)
    uint256 internal _taxClassSet; // bit c = class c has components
    mapping(address holder => uint256 bitmap) internal _settled;
    mapping(uint256 period => mapping(address holder => Escrow)) internal _escrow;
    // Payments the payment token refused to deliver (a blocklisted or rejecting receiver), kept for their owner.
    mapping(address holder => uint256 amount) internal _undelivered; // a holder's net, collectable later
    mapping(address account => uint256 amount) internal _taxArrears; // withheld tax its account could not receive
    uint128 internal _undeliveredTotal;
    uint128 internal _taxArrearsTotal;

    modifier nonReentrant() {
        if (_lock == 2) revert Reentrancy();
        _lock = 2;
        _;
        _lock = 1;
    }

    modifier onlyPayer() {
        _only(R_PAYER);
        _;
    }

    modifier onlyAdmin() {
        _only(R_ADMIN);
        _;
    }

    /// @dev Accrued withholding of component `i` in its class word `word`.
    function _due(uint256 word, uint256 i) internal pure returns (uint256) {
        return (word >> (DUE_SHIFT + (i & 1) * DUE_WIDTH)) & M94;
    }

    /// @dev The withholding of `couponGross` for `taxClass` as a payment makes it: per component, in component
    ///      order, floor(couponGross * ratePpm / 1e6), and their total. Reads the rates from the class's words (the
    ///      ones payments use); accrues nothing.
    function _withholdingOf(uint8 taxClass, uint256 couponGross)
        internal
        view
        returns (uint256[] memory taxes, uint256 total)
    {
        uint256[2] storage words = _taxWords[taxClass];
        uint256 w = words[0];
        taxes = new uint256[](w >> COUNT_SHIFT);
        for (uint256 i; i < taxes.length; ++i) {
            if (i == 2) w = words[1];
            taxes[i] = couponGross * ((w >> ((i & 1) * 32)) & M32) / PPM;
            total += taxes[i];
        }
    }

    /// @dev Transfers the withheld tax accrued for each class in the bitmap `classes`.
    function _sweepSet(uint256 classes) internal {
        for (uint256 c; classes != 0; ++c) {
            if (classes & 1 != 0) _sweep(uint8(c));
            classes >>= 1;
        }
    }

    /// @dev Transfers the withheld tax accrued for `taxClass` to each component's account.
    function _sweep(uint8 taxClass) internal {
        uint256[2] storage stored = _taxWords[taxClass];
        uint256 n = stored[0] >> COUNT_SHIFT;
        if (n == 0) return;
        uint256[2] memory words = [stored[0], n > 2 ? stored[1] : 0];
        if ((words[0] | words[1]) & DUES == 0) return;
        TaxComponent[] storage comps = _taxClasses[taxClass];
        // Cleared before the transfers (a re-entrant payment token sees nothing left to sweep).
        stored[0] = words[0] & ~DUES;
        if (n > 2) stored[1] = words[1] & ~DUES;
        address pt = _paymentToken();
        for (uint256 i; i < n; ++i) {
            uint256 amount = _due(words[i >> 1], i);
            if (amount == 0) continue;
            address account = comps[i].account == address(0) ? _taxAccount : comps[i].account;
            if (_trySend(pt, account, amount)) {
                emit TaxSwept(taxClass, account, amount);
            } else {
                // A tax account that cannot receive never blocks holders' payments: the tax waits for it (or for
                // the account the admin redirects it to).
                _taxArrears[account] += amount;
                _taxArrearsTotal += uint128(amount);
                emit TaxTransferFailed(taxClass, account, amount);
            }
        }
    }

    /// @dev The registry's packed record of `wallet` (identity [0,160) | ... | taxClass [208,216) | kycExpiry
    ///      [216,248)), read in one call; the same word the token reads for its transfer rules.
    function _record(address wallet) internal view returns (uint256) {
        return IInvestorRegistry(_registry()).record(wallet);
    }

    function _verified(uint256 record) internal view returns (bool) {
        return record & ID_MASK != 0 && block.timestamp < uint32(record >> 216);
    }

    function _taxClass(uint256 record) internal pure returns (uint8) {
        return uint8(record >> 208);
    }

    function _redemption() internal view returns (IBondRedemption) {
        return IBondRedemption(address(_token()));
    }

    /// @dev The token of the series: this address (the payment code runs in the token's storage).
    function _token() internal view returns (IBondRecordDates) {
        return IBondRecordDates(address(this));
    }

    /// @dev Every payout of the payment token: `SafeERC20.safeTransfer` without building the call in a bytes array
    ///      (the same acceptance rule — no return data from a contract, or a returned `true` — and the same errors).
    function _send(address token, address to, uint256 amount) internal {
        bool ok;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, shl(224, 0xa9059cbb)) // transfer(address,uint256)
            mstore(add(ptr, 4), to)
            mstore(add(ptr, 36), amount)
            if iszero(call(gas(), token, 0, ptr, 68, 0, 32)) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
            switch returndatasize()
            case 0 { ok := gt(extcodesize(token), 0) }
            default { ok := eq(mload(0), 1) }
        }
        if (!ok) revert SafeERC20.SafeERC20FailedOperation(token);
    }

    /// @dev `_send` that reports a refusal instead of reverting: false when the call reverts, returns anything but
    ///      `true`, or the token has no code. Used where one receiver must not block others (push, tax sweep).
    function _trySend(address token, address to, uint256 amount) internal returns (bool ok) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, shl(224, 0xa9059cbb)) // transfer(address,uint256)
            mstore(add(ptr, 4), to)
            mstore(add(ptr, 36), amount)
            mstore(0, 0)
            ok := call(gas(), token, 0, ptr, 68, 0, 32)
            if ok {
                switch returndatasize()
                case 0 { ok := gt(extcodesize(token), 0) }
                default { ok := and(gt(returndatasize(), 31), eq(mload(0), 1)) }
            }
        }
    }

    /// @dev The registry and the payment token: the first two words of the series' immutable args
    ///      (`abi.encode(registry, paymentToken, ...)` at ARGS_OFFSET), read from code in one copy.
    function _immutableArgs() internal view returns (address registry, address paymentToken) {
        assembly ("memory-safe") {
            extcodecopy(address(), 0, ARGS_OFFSET, 64)
            registry := mload(0)
            paymentToken := mload(32)
        }
    }

    function _registry() internal view returns (address registry) {
        (registry,) = _immutableArgs();
    }

    function _paymentToken() internal view returns (address paymentToken) {
        (, paymentToken) = _immutableArgs();
    }

    /// @dev One read of the holder's account word: whether `holder` was already settled for `period`, its units
    ///      at the record time and its freeze; for periods kept in the word's bits it also marks the holder
    ///      settled there (the caller reverts or skips on `settled`, and a revert undoes the mark). Later periods:
    ///      `_markSettled`. `recordIndex` is the period's record time in the token's schedule.
    function _account(uint256 period, uint256 recordIndex, address holder)
        internal
        returns (bool settled, uint256 units, bool frozen)
    {
        uint256 w = _acct[holder];
        units = _unitsAt(holder, w, recordIndex);
        uint256 tokenBits = w >> S_SETTLED;
        settled = _settledIn(period, holder, tokenBits);
        if (!settled && units != 0 && period < TOKEN_SETTLED_PERIODS) _acct[holder] = w | (1 << (S_SETTLED + period));
        frozen = w & FROZEN != 0;
    }

    function _settledIn(uint256 period, address holder, uint256 tokenBits) internal view returns (bool) {
        if (period < TOKEN_SETTLED_PERIODS) return (tokenBits >> period) & 1 != 0;
        return (_settled[holder] >> period) & 1 != 0;
    }

    /// @dev Marks a settlement of a period past the token's bits (those were marked by `_account`).
    function _markSettled(uint256 period, address holder) internal {
        if (period >= TOKEN_SETTLED_PERIODS) _settled[holder] |= 1 << period;
    }

    /// @dev Books a batch in the period accounts and checks the funding covers it.
    ///      `settled` gross leaves the unassigned funding as net, tax or escrow.
    function _book(uint256 period, Period storage p, uint256 settled, uint256 escrowed, uint256 tax) internal {
        if (settled == 0) return;
        uint256 held = p.held;
        if (settled > held) revert InsufficientFunds(period, settled, held);
        (p.held, p.taxWithheld) = (uint112(held - settled), p.taxWithheld + uint128(tax));
        if (escrowed != 0) p.escrowed += uint128(escrowed);
    }

    function _amounts(PeriodTerms memory t, uint256 units) internal pure returns (uint256 cg, uint256 pg, uint256 ru) {
        if (units == 0) return (0, 0, 0);
        // units < 2^96 (the token's balance field) and numerators < 2^128: the products cannot overflow, and a
        // token breaking that bound would make them revert (checked arithmetic) rather than round wrongly.
        cg = units * t.couponNum / t.couponDen;
        if (t.redeemNum != 0) {
            ru = units * t.redeemNum / t.redeemDen;
            // slither-disable-next-line divide-before-multiply
            pg = ru * t.principalNum / t.principalDen; // retired units are floored before pricing (rounding rule)
        } else {
            pg = units * t.principalNum / t.principalDen;
        }
    }

    /// @dev The funding a period needs and its record time's schedule index.
    function _computeRequired(uint256 period, PeriodTerms memory t)
        internal
        view
        returns (uint256 required, uint256 recordIndex)
    {
        // Balances can still change within the record second itself (the token rolls its record-date cursor
        // only once block.timestamp is past the record time), so the record is final only after it.
        if (block.timestamp <= t.recordTime) revert PeriodRecordTimeNotPassed(period, t.recordTime, block.timestamp);
        recordIndex = _recordIndex(t.recordTime);
        uint256 supply = _supplyAt(recordIndex);
        uint256 principal;
        if (t.redeemNum != 0) {
            uint256 retired = supply * t.redeemNum / t.redeemDen; // floored first, as for each holder
            // slither-disable-next-line divide-before-multiply
            principal = retired * t.principalNum / t.principalDen;
        } else {
            principal = supply * t.principalNum / t.principalDen;
        }
        required = supply * t.couponNum / t.couponDen + principal;
    }

    /// @dev The period's required funding: stored once known, computed from the record-date supply before.
    function _required(uint256 period, Period storage p) internal view returns (uint256) {
        if (_is(p, P_REQUIRED_KNOWN)) return p.required;
        (uint256 required,) = _computeRequired(period, _terms(p));
        return required;
    }

    /// @dev `_required`, stored on first use (it is fixed once the record time has passed).
    function _knownRequired(uint256 period, Period storage p) internal returns (uint256 required) {
        if (_is(p, P_REQUIRED_KNOWN)) return p.required;
        uint256 recordIndex;
        (required, recordIndex) = _computeRequired(period, _terms(p));
        p.required = SafeCast.toUint128(required); // a schedule beyond the accounts' 128 bits is refused here
        p.recordIndex = uint16(recordIndex);
        _flag(p, P_REQUIRED_KNOWN, true);
        if (_retiringBetween(0, recordIndex) != 0) _flag(p, P_AFTER_RETIREMENT, true);
    }

    function _updateDefault(uint256 period, Period storage p, uint256 required, uint256 covered) internal {
        if (covered >= required) {
            if (_is(p, P_DEFAULTED)) {
                _flag(p, P_DEFAULTED, false);
                --_openDefaults;
                emit PaymentDefaultCured(period, required, covered);
            }
        } else if (!_is(p, P_DEFAULTED) && block.timestamp >= p.paymentTime) {
            _flag(p, P_DEFAULTED, true);
            ++_openDefaults;
            emit PaymentDefaulted(period, required, covered);
        }
    }

    function _paidNet(Period storage p) internal view returns (uint256) {
        return uint256(p.funded) - p.held - p.taxWithheld - p.escrowed - p.reclaimed;
    }

    /// @dev A scheduled period (a scheduled payment time is never zero).
    function _get(uint256 period) internal view returns (Period storage p) {
        p = _periods[period];
        if (p.paymentTime == 0) revert UnknownPeriod(period, _periodCount);
    }

    function _live(uint256 period) internal view returns (Period storage p) {
        p = _get(period);
        uint256 flags = p.flags;
        if (flags & P_CANCELLED != 0) revert PeriodIsCancelled(period);
        if (flags & P_CLOSED != 0) revert PeriodIsClosed(period);
    }

    /// @dev A period that can be paid on chain now: live, payment time reached and fully covered.
    function _payable(uint256 period) internal returns (Period storage p) {
        p = _live(period);
        if (block.timestamp < p.paymentTime) {
            revert PaymentTimeNotReached(period, p.paymentTime, block.timestamp);
        }
        if (_is(p, P_COVERED)) return p;
        uint256 required = _knownRequired(period, p);
        uint256 covered = uint256(p.funded) + p.offchainGross;
        if (covered < required) revert PeriodUnderfunded(period, required, covered);
        _flag(p, P_COVERED, true); // required is fixed and coverage only grows: checked once per period
    }

    /// @dev The terms of `p`: slot 0 in one read (recordTime [0,40) | paymentTime [40,80) | flags [80,88) |
    ///      couponNum [96,184) | couponDen [184,256)); the wide coupon, principal and redeemed-fraction slots
    ///      only when their flag is set.
    function _terms(Period storage p) internal view returns (PeriodTerms memory t) {
        uint256 head;
        assembly ("memory-safe") {
            head := sload(p.slot)
        }
        uint256 flags = (head >> 80) & M16;
        t.recordTime = uint64(head & M40);
        t.paymentTime = uint64((head >> 40) & M40);
        if (flags & P_WIDE_COUPON != 0) {
            (t.couponNum, t.couponDen) = (p.wideCouponNum, p.wideCouponDen);
        } else {
            (t.couponNum, t.couponDen) = (uint128((head >> 96) & M88), uint128(head >> 184));
        }
        (t.principalNum, t.principalDen) = flags & P_PRINCIPAL != 0 ? (p.principalNum, p.principalDen) : (0, 1);
        (t.redeemNum, t.redeemDen) = flags & P_REDEEMS != 0 ? (p.redeemNum, p.redeemDen) : (0, 1);
    }

    function _is(Period storage p, uint16 flag) internal view returns (bool) {
        return p.flags & flag != 0;
    }

    function _flag(Period storage p, uint16 flag, bool on) internal {
        p.flags = on ? p.flags | flag : p.flags & ~flag;
    }
}
