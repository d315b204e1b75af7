// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IBondRecordDates} from "../interfaces/IBondRecordDates.sol";
import {IBondRedemption} from "../interfaces/IBondRedemption.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IPaymentAgent} from "../interfaces/IPaymentAgent.sol";
import {IPaymentAgentInit} from "../interfaces/IPaymentAgentInit.sol";
import {BondTokenStorage} from "../token/BondTokenStorage.sol";

/// @title PaymentAgent
/// @notice Coupon, amortization, call and redemption payments of one bond series.
/// @dev Runs by delegatecall in the series' storage, beside the token (BondFactory's routing proxy sends `claim`
///      and `claimMany` here directly, the token's admin extension forwards the other payment functions): it reads
///      record-date units, freezes and roles straight from the token's storage, so a claim makes no call to the
///      token. Its own state follows the token's in the layout (BondTokenStorage first in the inheritance).
///      Roles are the token's: DEFAULT_ADMIN_ROLE and PAYER_ROLE granted on the series.
///      Settlement flags of periods 0..TOKEN_SETTLED_PERIODS-1 live in spare bits of the holder's account word
///      (marked in the same access that reads the record-date units); later periods use one bitmap word per
///      holder here. Period ids are limited to MAX_PERIODS.
contract PaymentAgent is BondTokenStorage, IPaymentAgent, IPaymentAgentInit {
    using SafeERC20 for IERC20;

    /// @notice The series admin role (schedule amendments, calls, tax configuration).
    bytes32 public constant DEFAULT_ADMIN_ROLE = 0x00;
    /// @notice Role allowed to fund, push, record off-chain payments, release escrow and reclaim.
    bytes32 public constant PAYER_ROLE = keccak256("PAYER_ROLE");
    /// @notice Maximum number of periods (coupons, amortizations, calls) of a series.
    uint256 public constant MAX_PERIODS = 256;
    /// @notice Maximum holders per push or off-chain batch.
    uint256 public constant MAX_BATCH = 500;
    /// @notice Maximum withholding components per tax class.
    uint256 public constant MAX_TAX_COMPONENTS = 4;
    uint256 private constant PPM = 1_000_000;
    /// @dev Periods whose settlement flag is kept in the token's account word (its 29 spare bits).
    uint256 private constant TOKEN_SETTLED_PERIODS = 29;
    uint256 private constant ID_MASK = (1 << 160) - 1;
    /// @dev Tax words of a class: word k holds components 2k and 2k+1, each a 32-bit rate (ppm) at [0,32) and
    ///      [32,64) and a 94-bit accrued amount (withheld, not yet transferred) at [64,158) and [158,252); word 0
    ///      keeps the component count at [252,256). Rates and accrual share the word, so a payment reads one slot
    ///      per class (two past two components) and accruing never writes a fresh slot.
    uint256 private constant M88 = (1 << 88) - 1;
    uint256 private constant M112 = (1 << 112) - 1;
    uint256 private constant M94 = (1 << 94) - 1;
    uint256 private constant DUE_SHIFT = 64;
    uint256 private constant DUE_WIDTH = 94;
    uint256 private constant COUNT_SHIFT = 252;
    uint256 private constant DUES = ((1 << 188) - 1) << 64;
    /// @dev Period flags (`Period.flags`).
    uint16 private constant P_CANCELLED = 1;
    uint16 private constant P_DEFAULTED = 2;
    uint16 private constant P_CLOSED = 4;
    uint16 private constant P_COVERED = 8; // funded + offchainGross reached required (monotone: set once)
    uint16 private constant P_PRINCIPAL = 16;
    uint16 private constant P_WIDE_COUPON = 32;
    uint16 private constant P_REDEEMS = 64;
    uint16 private constant P_REQUIRED_KNOWN = 128;
    /// @dev A record time before this period's retires units: holders' units at its record time are computed net
    ///      of those retirements (`_unitsAt`), so the claim's straight path does not serve it. Set with `required`.
    uint16 private constant P_AFTER_RETIREMENT = 256;

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
    uint16 private _periodCount; // <= MAX_PERIODS
    uint8 private _lock; // 1 = free, 2 = entered (set in initialize)
    uint16 private _openDefaults; // <= MAX_PERIODS
    address private _taxAccount;
    uint64 private _reclaimDelay;
    uint64 private _callNotice;
    bytes32 private _termSheetHash;
    mapping(uint256 period => Period) private _periods;
    mapping(uint8 taxClass => TaxComponent[]) private _taxClasses;
    mapping(uint8 taxClass => uint256[2]) private _taxWords; // rates, accrued withholding, count (see M94)
    uint256 private _taxClassSet; // bit c = class c has components
    mapping(address holder => uint256 bitmap) private _settled;
    mapping(uint256 period => mapping(address holder => Escrow)) private _escrow;

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

    /// @inheritdoc IPaymentAgentInit
    /// @dev `params` is abi.encode(IPaymentAgent.InitParams).
    function initialize(address token_, address registry_, address admin, bytes calldata params) external {
        // Once, on a series whose token named itself its payment agent (BondFactory, deploying transaction).
        if (_lock != 0 || _hot & F_PAYMENTS == 0) revert PaymentsNotInitializable();
        InitParams memory p = abi.decode(params, (InitParams));
        if (
            token_ == address(0) || registry_ == address(0) || admin == address(0) || p.paymentToken == address(0)
                || p.taxAccount == address(0)
        ) revert ZeroAddress();
        if (p.periods.length > MAX_PERIODS) revert TooManyPeriods(p.periods.length, MAX_PERIODS);
        if (
            token_ != address(_token()) || registry_ != _registry() || p.paymentToken != _paymentToken()
        ) revert CloneArgsMismatch(address(_token()), _registry(), _paymentToken());
        _lock = 1;
        _taxAccount = p.taxAccount;
        _reclaimDelay = p.reclaimDelay;
        _callNotice = p.callNotice;
        _termSheetHash = p.termSheetHash;
        if (_roleBits[admin] & R_ADMIN == 0) revert MissingRole(admin, R_ADMIN);
        if (p.payer != address(0) && _roleBits[p.payer] & R_PAYER == 0) {
            _roleBits[p.payer] |= R_PAYER;
            emit IAccessControl.RoleGranted(PAYER_ROLE, p.payer, msg.sender);
        }
        emit TermSheetHashUpdated(bytes32(0), p.termSheetHash);
        emit TaxAccountUpdated(address(0), p.taxAccount);
        for (uint256 i; i < p.taxClasses.length; ++i) {
            _setTaxClass(p.taxClasses[i].taxClass, p.taxClasses[i].components);
        }
        for (uint256 i; i < p.periods.length; ++i) {
            _checkTerms(p.periods[i]);
            _addPeriod(p.periods[i]);
        }
        _syncRecordTimes(); // a series' record times are its payment schedule's, whatever the token was given
    }

    // ================================================================== payer / treasury

    /// @inheritdoc IPaymentAgent
    function fund(uint256 period, uint256 amount) external onlyPayer nonReentrant {
        if (amount == 0) revert ZeroAmount();
        Period storage p = _live(period);
        uint256 required = _knownRequired(period, p);
        uint256 covered = uint256(p.funded) + p.offchainGross;
        uint256 shortfall = required > covered ? required - covered : 0;
        if (amount > shortfall) revert FundingExceedsShortfall(period, amount, shortfall);
        IERC20 pt = IERC20(_paymentToken());
        uint256 before = pt.balanceOf(address(this));
        pt.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = pt.balanceOf(address(this)) - before;
        if (received != amount) revert FundingNotReceived(amount, received);
        p.funded += uint128(amount);
        p.held = SafeCast.toUint112(p.held + amount);
        covered += amount;
        emit PeriodFunded(period, msg.sender, amount, p.funded, required);
        _updateDefault(period, p, required, covered);
    }

    /// @inheritdoc IPaymentAgent
    function pushPayments(uint256 period, address[] calldata holders)
        external
        onlyPayer
        nonReentrant
        returns (uint256 paid)
    {
        if (holders.length > MAX_BATCH) revert BatchTooLarge(holders.length, MAX_BATCH);
        Period storage p = _payable(period);
        PeriodTerms memory t = _terms(p);
        uint256[4] memory sums; // settled gross, escrowed gross, tax withheld, tax classes touched
        uint256 recordIndex = p.recordIndex;
        for (uint256 i; i < holders.length; ++i) {
            if (_pushOne(period, t, recordIndex, holders[i], sums)) ++paid;
        }
        _book(period, p, sums[0], sums[1], sums[2]);
        _sweepSet(sums[3]);
    }

    /// @dev Settles one holder of a push batch unless already settled or without entitlement.
    // slither-disable-next-line reentrancy-no-eth
    function _pushOne(
        uint256 period,
        PeriodTerms memory t,
        uint256 recordIndex,
        address holder,
        uint256[4] memory sums
    ) private returns (bool) {
        (bool settled, uint256 units, bool frozen) = _account(period, recordIndex, holder);
        if (settled) return false;
        uint256[3] memory a; // coupon gross, principal gross, units retired
        (a[0], a[1], a[2]) = _amounts(t, units);
        if (a[0] + a[1] == 0 && a[2] == 0) return false;
        _markSettled(period, holder);
        (uint256 net, uint256 tax, uint256 taxClass, bool inEscrow) = _settle(period, holder, a, frozen);
        if (net != 0) _send(_paymentToken(), holder, net); // the batch holds the lock; books at its end
        uint256 gross = a[0] + a[1];
        sums[0] += gross;
        if (inEscrow) {
            sums[1] += gross;
        } else if (tax != 0) {
            sums[2] += tax;
            sums[3] |= 1 << taxClass;
        }
        return true;
    }

    /// @inheritdoc IPaymentAgent
    /// @dev No re-entrancy lock: a claim marks, books and accrues before its one transfer (checks-effects-
    ///      interactions), so re-entering finds the holder settled and the period's funding already reduced.
    function claim(uint256 period) external {
        if (!_claimCoupon(period)) _claim(period);
    }

    /// @inheritdoc IPaymentAgent
    // slither-disable-next-line reentrancy-no-eth
    function claimMany(uint256[] calldata periods) external {
        for (uint256 i; i < periods.length; ++i) {
            uint256 period = periods[i];
            if (!_claimCoupon(period)) _claim(period);
        }
    }

    /// @inheritdoc IPaymentAgent
    // slither-disable-next-line reentrancy-no-eth
    function recordOffchainPayments(uint256 period, address[] calldata holders, bytes32[] calldata references)
        external
        onlyPayer
        nonReentrant
    {
        if (holders.length > MAX_BATCH) revert BatchTooLarge(holders.length, MAX_BATCH);
        _len(holders.length, references.length);
        // Also after `reclaim` closed the period: a bank payment moves no funds here, it records who was paid.
        Period storage p = _get(period);
        if (_is(p, P_CANCELLED)) revert PeriodIsCancelled(period);
        if (block.timestamp <= p.recordTime) {
            revert PeriodRecordTimeNotPassed(period, p.recordTime, block.timestamp);
        }
        PeriodTerms memory t = _terms(p);
        uint256 recordIndex = _is(p, P_REQUIRED_KNOWN) ? p.recordIndex : _recordIndex(t.recordTime);
        uint256 total;
        for (uint256 i; i < holders.length; ++i) {
            total += _recordOffchain(period, t, recordIndex, holders[i], references[i]);
        }
        p.offchainGross += uint128(total);
        if (_is(p, P_DEFAULTED) && _is(p, P_REQUIRED_KNOWN)) {
            _updateDefault(period, p, p.required, uint256(p.funded) + p.offchainGross);
        }
    }

    /// @dev Marks one holder settled off chain, burns retired units and returns the gross entitlement.
    // slither-disable-next-line reentrancy-no-eth
    function _recordOffchain(uint256 period, PeriodTerms memory t, uint256 recordIndex, address holder, bytes32 ref)
        private
        returns (uint256)
    {
        (bool settled, uint256 units,) = _account(period, recordIndex, holder);
        if (settled) revert AlreadySettled(period, holder);
        (uint256 cg, uint256 pg, uint256 ru) = _amounts(t, units);
        if (cg + pg == 0 && ru == 0) revert NothingToPay(period, holder);
        _markSettled(period, holder);
        ru = _retire(holder, ru);
        emit OffchainPaymentRecorded(period, holder, cg, pg, ru, ref);
        return cg + pg;
    }

    /// @inheritdoc IPaymentAgent
    function releaseEscrow(uint256 period, address holder, address to) external onlyPayer nonReentrant {
        Period storage p = _get(period);
        Escrow memory e = _escrow[period][holder];
        uint256 gross = uint256(e.couponGross) + e.principalGross;
        if (gross == 0) revert NoEscrow(period, holder);
        uint256 record = _record(to);
        if (to != holder) {
            address identity = address(uint160(record));
            if (identity == address(0) || identity != address(uint160(_record(holder)))) {
                revert NotSameInvestor(holder, to);
            }
        }
        if (!_verified(record) || _acct[to] & FROZEN != 0) revert RecipientNotEligible(to);
        delete _escrow[period][holder];
        p.escrowed -= uint128(gross);
        emit EscrowReleased(period, holder, to, gross);
        uint8 taxClass = _taxClass(record);
        (uint256 net, uint256 tax) = _payNet(period, holder, to, e.couponGross, e.principalGross, 0, taxClass);
        p.taxWithheld += uint128(tax); // the net paid grows by gross - tax (derived, see Period)
        if (net != 0) _send(_paymentToken(), to, net);
        if (tax != 0) _sweep(taxClass);
    }

    /// @inheritdoc IPaymentAgent
    function reclaim(uint256 period, address to) external onlyPayer nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert ZeroAddress();
        Period storage p = _get(period);
        if (_is(p, P_CLOSED)) revert PeriodIsClosed(period);
        if (block.timestamp < p.reclaimAfter) revert ReclaimTooEarly(period, p.reclaimAfter, block.timestamp);
        amount = p.held;
        p.held = 0;
        _flag(p, P_CLOSED, true);
        p.reclaimed += uint128(amount);
        emit Reclaimed(period, to, amount);
        if (_is(p, P_DEFAULTED)) {
            // A closed period can no longer be funded: what it still owed is settled off chain, not in default.
            _flag(p, P_DEFAULTED, false);
            --_openDefaults;
            emit PaymentDefaultEnded(period, p.required, uint256(p.funded) + p.offchainGross);
        }
        if (amount != 0) _send(_paymentToken(), to, amount);
    }

    /// @inheritdoc IPaymentAgent
    function sweepTax(uint8[] calldata taxClasses) external nonReentrant {
        for (uint256 i; i < taxClasses.length; ++i) {
            _sweep(taxClasses[i]);
        }
    }

    /// @inheritdoc IPaymentAgent
    function markDefault(uint256 period) external nonReentrant {
        Period storage p = _live(period);
        if (_is(p, P_DEFAULTED)) revert AlreadyDefaulted(period);
        if (block.timestamp < p.paymentTime) {
            revert PaymentTimeNotReached(period, p.paymentTime, block.timestamp);
        }
        uint256 required = _knownRequired(period, p);
        uint256 covered = uint256(p.funded) + p.offchainGross;
        if (covered >= required) revert PeriodCovered(period, required, covered);
        _updateDefault(period, p, required, covered);
    }

    // ================================================================== admin

    /// @inheritdoc IPaymentAgent
    function amendPeriod(uint256 period, PeriodTerms calldata terms) external onlyAdmin {
        Period storage p = _live(period);
        if (block.timestamp >= p.recordTime || p.funded != 0 || p.offchainGross != 0) revert TermsLocked(period);
        _checkTerms(terms);
        PeriodTerms memory old = _terms(p);
        _storeTerms(p, terms);
        p.reclaimAfter = terms.paymentTime + _reclaimDelay;
        emit PeriodAmended(period, old, terms);
        _syncRecordTimes();
    }

    /// @inheritdoc IPaymentAgent
    function scheduleCall(PeriodTerms calldata terms) external onlyAdmin returns (uint256 period) {
        _checkTerms(terms);
        if (terms.redeemNum == 0) revert NotACall(terms.redeemNum, terms.redeemDen);
        uint256 earliest = block.timestamp + _callNotice;
        if (terms.paymentTime < earliest) revert CallNoticeTooShort(terms.paymentTime, earliest);
        bool full = terms.redeemNum == terms.redeemDen;
        if (full) {
            uint256 n = _periodCount;
            for (uint256 i; i < n; ++i) {
                Period storage q = _periods[i];
                if (!_is(q, P_CANCELLED) && q.recordTime >= terms.recordTime) {
                    if (q.funded != 0 || q.offchainGross != 0) revert TermsLocked(i);
                    _flag(q, P_CANCELLED, true);
                    emit PeriodCancelled(i);
                }
            }
        }
        period = _addPeriod(terms);
        emit CallScheduled(period, full, terms.paymentTime, terms.redeemNum, terms.redeemDen);
        _syncRecordTimes();
    }

    /// @inheritdoc IPaymentAgent
    function setTaxClass(uint8 taxClass, TaxComponent[] calldata components) external onlyAdmin {
        _setTaxClass(taxClass, components);
    }

    /// @inheritdoc IPaymentAgent
    function setTaxAccount(address account) external onlyAdmin {
        if (account == address(0)) revert ZeroAddress();
        _sweepSet(_taxClassSet); // tax withheld so far goes to the accounts configured when it was withheld
        address old = _taxAccount;
        _taxAccount = account;
        emit TaxAccountUpdated(old, account);
    }

    /// @inheritdoc IPaymentAgent
    function setTermSheetHash(bytes32 newHash) external onlyAdmin {
        bytes32 old = _termSheetHash;
        _termSheetHash = newHash;
        emit TermSheetHashUpdated(old, newHash);
    }

    /// @inheritdoc IPaymentAgent
    function syncRecordTimes() external onlyAdmin {
        _syncRecordTimes();
    }

    // ================================================================== views

    /// @inheritdoc IPaymentAgent
    function token() external view returns (address) {
        return address(_token());
    }

    /// @inheritdoc IPaymentAgent
    function registry() external view returns (address) {
        return _registry();
    }

    /// @inheritdoc IPaymentAgent
    function paymentToken() external view returns (address) {
        return _paymentToken();
    }

    /// @inheritdoc IPaymentAgent
    function taxAccount() external view returns (address) {
        return _taxAccount;
    }

    /// @inheritdoc IPaymentAgent
    function termSheetHash() external view returns (bytes32) {
        return _termSheetHash;
    }

    /// @inheritdoc IPaymentAgent
    function reclaimDelay() external view returns (uint64) {
        return _reclaimDelay;
    }

    /// @inheritdoc IPaymentAgent
    function callNotice() external view returns (uint64) {
        return _callNotice;
    }

    /// @inheritdoc IPaymentAgent
    function periodCount() external view returns (uint256) {
        return _periodCount;
    }

    /// @inheritdoc IPaymentAgent
    function periodTerms(uint256 period) external view returns (PeriodTerms memory) {
        return _terms(_get(period));
    }

    /// @inheritdoc IPaymentAgent
    function periodState(uint256 period) external view returns (PeriodState memory s) {
        Period storage p = _get(period);
        s = PeriodState(
            p.reclaimAfter,
            _is(p, P_CANCELLED),
            _is(p, P_DEFAULTED),
            _is(p, P_CLOSED),
            _is(p, P_REQUIRED_KNOWN),
            p.required,
            p.funded
        );
    }

    /// @inheritdoc IPaymentAgent
    function accounts(uint256 period) external view returns (Accounts memory a) {
        Period storage p = _get(period);
        a = Accounts(
            p.funded,
            _paidNet(p),
            p.taxWithheld,
            p.escrowed,
            p.reclaimed,
            p.held,
            p.offchainGross,
            uint256(p.funded) - p.held - p.reclaimed
        );
    }

    /// @inheritdoc IPaymentAgent
    function fundingShortfall(uint256 period) external view returns (uint256) {
        Period storage p = _get(period);
        uint256 required = _required(period, p);
        uint256 covered = uint256(p.funded) + p.offchainGross;
        return required > covered ? required - covered : 0;
    }

    /// @inheritdoc IPaymentAgent
    function requiredFunding(uint256 period) external view returns (uint256) {
        Period storage p = _get(period);
        return _required(period, p);
    }

    /// @inheritdoc IPaymentAgent
    function entitlement(uint256 period, address holder)
        external
        view
        returns (uint256 couponGross, uint256 principalGross, uint256 unitsRedeemed)
    {
        PeriodTerms memory t = _terms(_get(period));
        return _amounts(t, _balanceOfAt(holder, t.recordTime));
    }

    /// @inheritdoc IPaymentAgent
    function withholding(uint8 taxClass, uint256 couponGross)
        external
        view
        returns (uint256[] memory taxes, uint256 total)
    {
        TaxComponent[] storage comps = _taxClasses[taxClass];
        taxes = new uint256[](comps.length);
        for (uint256 i; i < comps.length; ++i) {
            taxes[i] = couponGross * comps[i].ratePpm / PPM;
            total += taxes[i];
        }
    }

    /// @inheritdoc IPaymentAgent
    function isSettled(uint256 period, address holder) external view returns (bool) {
        if (period >= _periodCount) return false;
        Period storage p = _periods[period];
        // Nothing settles before the record time has passed (and cancelled periods never settle).
        if (_is(p, P_CANCELLED) || block.timestamp <= p.recordTime) return false;
        _recordIndex(p.recordTime); // the record time is in the token's schedule
        return _settledIn(period, holder, _acct[holder] >> S_SETTLED);
    }

    /// @inheritdoc IPaymentAgent
    function escrowOf(uint256 period, address holder) external view returns (uint256) {
        Escrow storage e = _escrow[period][holder];
        return uint256(e.couponGross) + e.principalGross;
    }

    /// @inheritdoc IPaymentAgent
    function taxPending(uint8 taxClass) external view returns (uint256[] memory amounts) {
        uint256 n = _taxClasses[taxClass].length;
        amounts = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            amounts[i] = _due(_taxWords[taxClass][i >> 1], i);
        }
    }

    /// @inheritdoc IPaymentAgent
    function taxComponents(uint8 taxClass) external view returns (TaxComponent[] memory) {
        return _taxClasses[taxClass];
    }

    /// @inheritdoc IPaymentAgent
    function openDefaults() external view returns (uint256) {
        return _openDefaults;
    }

    // ================================================================== internals: payments

    /// @dev The common claim, in fewer steps than `_claim` and with the same effects and events: a covered
    ///      coupon-only period (inline coupon rational, no principal, no retirement) whose settlement flag is in the
    ///      account word, a holder neither frozen nor unverified, a tax class of at most two components. For
    ///      anything else it returns false having written nothing, and `_claim` handles the claim.
    // slither-disable-next-line reentrancy-no-eth
    function _claimCoupon(uint256 period) private returns (bool) {
        if (period >= TOKEN_SETTLED_PERIODS) return false;
        Period storage p = _periods[period];
        uint256 head;
        uint256 accounts; // Period slot 6: held [0,112) | recordIndex [112,128) | taxWithheld [128,256)
        assembly ("memory-safe") {
            head := sload(p.slot)
            accounts := sload(add(p.slot, 6))
        }
        // Covered implies a known period past its record time with `recordIndex` stored.
        uint256 flags = (head >> 80)
            & (P_CANCELLED | P_CLOSED | P_WIDE_COUPON | P_PRINCIPAL | P_REDEEMS | P_COVERED | P_AFTER_RETIREMENT);
        if (flags != P_COVERED || block.timestamp < (head >> 40) & M40) return false;
        uint256 w = _acct[msg.sender];
        uint256 bit = 1 << (S_SETTLED + period);
        if (w & bit != 0) revert AlreadySettled(period, msg.sender);
        uint256 cg = _balanceAt(msg.sender, w, (accounts >> 112) & M16) * ((head >> 96) & M88) / (head >> 184);
        if (cg == 0) revert NothingToPay(period, msg.sender);
        if (w & FROZEN != 0) return false;
        (address registry, address paymentToken) = _immutableArgs();
        uint256 record = IInvestorRegistry(registry).record(msg.sender);
        if (!_verified(record)) return false;
        return _payCoupon(period, p, w | bit, cg, accounts, _taxClass(record), paymentToken);
    }

    /// @dev The effects of `_claimCoupon` once the claim qualifies: `settledWord` is the holder's account word
    ///      with the period's flag set, `accounts` the period's slot 6 as read.
    // slither-disable-next-line reentrancy-no-eth
    function _payCoupon(
        uint256 period,
        Period storage p,
        uint256 settledWord,
        uint256 cg,
        uint256 accounts,
        uint8 taxClass,
        address paymentToken
    ) private returns (bool) {
        uint256[2] storage words = _taxWords[taxClass];
        uint256 word = words[0];
        uint256 n = word >> COUNT_SHIFT;
        if (n > 2) return false;
        if (cg > accounts & M112) revert InsufficientFunds(period, cg, accounts & M112);
        _acct[msg.sender] = settledWord;
        uint256[] memory taxes;
        assembly ("memory-safe") {
            // Every element is written below (`_withhold`), so the array is not zeroed first.
            taxes := mload(0x40)
            mstore(taxes, n)
            mstore(0x40, add(taxes, shl(5, add(n, 1))))
        }
        uint256 tax;
        if (n != 0) (words[0], tax) = _withhold(taxClass, word, cg, taxes, 0);
        // held >= cg (checked above) and taxWithheld + tax <= funded < 2^128: no field under- or overflows.
        assembly ("memory-safe") {
            sstore(add(p.slot, 6), add(sub(accounts, cg), shl(128, tax)))
        }
        _emitCouponPaid(period, cg, taxes, tax);
        if (cg != tax) _send(paymentToken, msg.sender, cg - tax);
        return true;
    }

    function _emitCouponPaid(uint256 period, uint256 cg, uint256[] memory taxes, uint256 tax) private {
        emit PaymentMade(period, msg.sender, msg.sender, cg, 0, taxes, cg - tax, 0);
    }

    // slither-disable-next-line reentrancy-no-eth
    function _claim(uint256 period) private {
        Period storage p = _payable(period);
        PeriodTerms memory t = _terms(p);
        (bool settled, uint256 units, bool frozen) = _account(period, p.recordIndex, msg.sender);
        if (settled) revert AlreadySettled(period, msg.sender);
        uint256[3] memory a; // coupon gross, principal gross, units retired
        (a[0], a[1], a[2]) = _amounts(t, units);
        if (a[0] + a[1] == 0 && a[2] == 0) revert NothingToPay(period, msg.sender);
        _markSettled(period, msg.sender);
        (uint256 net, uint256 tax,, bool inEscrow) = _settle(period, msg.sender, a, frozen);
        uint256 gross = a[0] + a[1];
        // Withholding stays accrued in the agent (taxPending) until sweepTax or the next push batch of the class.
        _book(period, p, gross, inEscrow ? gross : 0, tax);
        if (net != 0) _send(_paymentToken(), msg.sender, net);
    }

    /// @dev Burns retired units, then escrows the gross (frozen or unverified holder) or withholds; the caller
    ///      transfers the returned net.
    function _settle(uint256 period, address holder, uint256[3] memory a, bool frozen)
        private
        returns (uint256 net, uint256 tax, uint8 taxClass, bool inEscrow)
    {
        (uint256 cg, uint256 pg) = (a[0], a[1]);
        uint256 ru = _retire(holder, a[2]);
        uint256 record = _record(holder);
        if (frozen || !_verified(record)) {
            _escrow[period][holder] = Escrow(uint128(cg), uint128(pg));
            emit PaymentEscrowed(period, holder, cg, pg, ru);
            return (0, 0, 0, true);
        }
        taxClass = _taxClass(record);
        (net, tax) = _payNet(period, holder, holder, cg, pg, ru, taxClass);
    }

    /// @dev Withholds on the coupon part by `taxClass` (accrued per component in the class word) and emits the
    ///      payment; the caller transfers the returned net to `to` once its books are written.
    function _payNet(
        uint256 period,
        address holder,
        address to,
        uint256 cg,
        uint256 pg,
        uint256 ru,
        uint8 taxClass
    ) private returns (uint256 net, uint256 total) {
        uint256[2] storage words = _taxWords[taxClass];
        uint256 w0 = words[0];
        uint256 n = w0 >> COUNT_SHIFT;
        uint256[] memory taxes = new uint256[](n);
        if (n != 0 && cg != 0) {
            (words[0], total) = _withhold(taxClass, w0, cg, taxes, 0);
            if (n > 2) {
                (uint256 w1, uint256 more) = _withhold(taxClass, words[1], cg, taxes, 2);
                (words[1], total) = (w1, total + more);
            }
        }
        net = cg + pg - total;
        emit PaymentMade(period, holder, to, cg, pg, taxes, net, ru);
    }

    /// @dev Withholds on `cg` the two components of class word `w` (an absent second component has rate 0),
    ///      writes them to `taxes[first]` and, when the array has it, `taxes[first + 1]`, and returns the word with
    ///      both accruals grown and their sum. Callers pass `first < taxes.length`.
    function _withhold(uint8 taxClass, uint256 w, uint256 cg, uint256[] memory taxes, uint256 first)
        private
        pure
        returns (uint256 word, uint256 sum)
    {
        uint256 t0 = cg * (w & M32) / PPM;
        uint256 t1 = cg * ((w >> 32) & M32) / PPM;
        uint256 d0 = ((w >> DUE_SHIFT) & M94) + t0; // _due(w, 0), without the component arithmetic
        uint256 d1 = ((w >> (DUE_SHIFT + DUE_WIDTH)) & M94) + t1; // _due(w, 1)
        if (d0 > M94) revert TaxAccrualOverflow(taxClass, d0);
        if (d1 > M94) revert TaxAccrualOverflow(taxClass, d1);
        assembly ("memory-safe") {
            let at := add(taxes, shl(5, add(first, 1)))
            mstore(at, t0)
            if lt(add(first, 1), mload(taxes)) { mstore(add(at, 32), t1) }
        }
        word = (w & ~DUES) | (d0 << DUE_SHIFT) | (d1 << (DUE_SHIFT + DUE_WIDTH));
        sum = t0 + t1;
    }

    /// @dev Accrued withholding of component `i` in its class word `word`.
    function _due(uint256 word, uint256 i) private pure returns (uint256) {
        return (word >> (DUE_SHIFT + (i & 1) * DUE_WIDTH)) & M94;
    }

    /// @dev Transfers the withheld tax accrued for each class in the bitmap `classes`.
    function _sweepSet(uint256 classes) private {
        for (uint256 c; classes != 0; ++c) {
            if (classes & 1 != 0) _sweep(uint8(c));
            classes >>= 1;
        }
    }

    /// @dev Transfers the withheld tax accrued for `taxClass` to each component's account.
    function _sweep(uint8 taxClass) private {
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
            emit TaxSwept(taxClass, account, amount);
            _send(pt, account, amount);
        }
    }

    /// @dev The period retired `units` of `holder` at its record time (they no longer move, see `_unitsAt`); the
    ///      token burns them now unless a balance change of the holder already did. Returns `units`, the retired
    ///      units this settlement pays for: always exactly the record-time figure, whatever moved since.
    function _retire(address holder, uint256 units) private returns (uint256) {
        if (units != 0) _redemption().retire(holder);
        return units;
    }

    /// @dev The registry's packed record of `wallet` (identity [0,160) | ... | taxClass [208,216) | kycExpiry
    ///      [216,248)), read in one call; the same word the token reads for its transfer rules.
    function _record(address wallet) private view returns (uint256) {
        return IInvestorRegistry(_registry()).record(wallet);
    }

    function _verified(uint256 record) private view returns (bool) {
        return record & ID_MASK != 0 && block.timestamp < uint32(record >> 216);
    }

    function _taxClass(uint256 record) private pure returns (uint8) {
        return uint8(record >> 208);
    }

    function _redemption() private view returns (IBondRedemption) {
        return IBondRedemption(address(_token()));
    }

    /// @dev The token of the series: this address (the payment code runs in the token's storage).
    function _token() private view returns (IBondRecordDates) {
        return IBondRecordDates(address(this));
    }

    /// @dev Every payout of the payment token: `SafeERC20.safeTransfer` without building the call in a bytes array
    ///      (the same acceptance rule — no return data from a contract, or a returned `true` — and the same errors).
    function _send(address token, address to, uint256 amount) private {
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

    /// @dev The registry and the payment token: the first two words of the series' immutable args
    ///      (`abi.encode(registry, paymentToken, ...)` at ARGS_OFFSET), read from code in one copy.
    function _immutableArgs() private view returns (address registry, address paymentToken) {
        assembly ("memory-safe") {
            extcodecopy(address(), 0, ARGS_OFFSET, 64)
            registry := mload(0)
            paymentToken := mload(32)
        }
    }

    function _registry() private view returns (address registry) {
        (registry,) = _immutableArgs();
    }

    function _paymentToken() private view returns (address paymentToken) {
        (, paymentToken) = _immutableArgs();
    }

    /// @dev One read of the holder's account word: whether `holder` was already settled for `period`, its units
    ///      at the record time and its freeze; for periods kept in the word's bits it also marks the holder
    ///      settled there (the caller reverts or skips on `settled`, and a revert undoes the mark). Later periods:
    ///      `_markSettled`. `recordIndex` is the period's record time in the token's schedule.
    function _account(uint256 period, uint256 recordIndex, address holder)
        private
        returns (bool settled, uint256 units, bool frozen)
    {
        uint256 w = _acct[holder];
        units = _unitsAt(holder, w, recordIndex);
        uint256 tokenBits = w >> S_SETTLED;
        settled = _settledIn(period, holder, tokenBits);
        if (!settled && units != 0 && period < TOKEN_SETTLED_PERIODS) _acct[holder] = w | (1 << (S_SETTLED + period));
        frozen = w & FROZEN != 0;
    }

    function _settledIn(uint256 period, address holder, uint256 tokenBits) private view returns (bool) {
        if (period < TOKEN_SETTLED_PERIODS) return (tokenBits >> period) & 1 != 0;
        return (_settled[holder] >> period) & 1 != 0;
    }

    /// @dev Marks a settlement of a period past the token's bits (those were marked by `_account`).
    function _markSettled(uint256 period, address holder) private {
        if (period >= TOKEN_SETTLED_PERIODS) _settled[holder] |= 1 << period;
    }

    /// @dev Books a batch in the period accounts and checks the funding covers it.
    ///      `settled` gross leaves the unassigned funding as net, tax or escrow.
    function _book(uint256 period, Period storage p, uint256 settled, uint256 escrowed, uint256 tax) private {
        if (settled == 0) return;
        uint256 held = p.held;
        if (settled > held) revert InsufficientFunds(period, settled, held);
        (p.held, p.taxWithheld) = (uint112(held - settled), p.taxWithheld + uint128(tax));
        if (escrowed != 0) p.escrowed += uint128(escrowed);
    }

    function _amounts(PeriodTerms memory t, uint256 units) private pure returns (uint256 cg, uint256 pg, uint256 ru) {
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
        private
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
    function _required(uint256 period, Period storage p) private view returns (uint256) {
        if (_is(p, P_REQUIRED_KNOWN)) return p.required;
        (uint256 required,) = _computeRequired(period, _terms(p));
        return required;
    }

    /// @dev `_required`, stored on first use (it is fixed once the record time has passed).
    function _knownRequired(uint256 period, Period storage p) private returns (uint256 required) {
        if (_is(p, P_REQUIRED_KNOWN)) return p.required;
        uint256 recordIndex;
        (required, recordIndex) = _computeRequired(period, _terms(p));
        p.required = uint128(required);
        p.recordIndex = uint16(recordIndex);
        _flag(p, P_REQUIRED_KNOWN, true);
        if (_retiringBetween(0, recordIndex) != 0) _flag(p, P_AFTER_RETIREMENT, true);
    }

    function _updateDefault(uint256 period, Period storage p, uint256 required, uint256 covered) private {
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

    function _paidNet(Period storage p) private view returns (uint256) {
        return uint256(p.funded) - p.held - p.taxWithheld - p.escrowed - p.reclaimed;
    }

    // ================================================================== internals: schedule

    /// @dev A scheduled period (a scheduled payment time is never zero).
    function _get(uint256 period) private view returns (Period storage p) {
        p = _periods[period];
        if (p.paymentTime == 0) revert UnknownPeriod(period, _periodCount);
    }

    function _live(uint256 period) private view returns (Period storage p) {
        p = _get(period);
        uint256 flags = p.flags;
        if (flags & P_CANCELLED != 0) revert PeriodIsCancelled(period);
        if (flags & P_CLOSED != 0) revert PeriodIsClosed(period);
    }

    /// @dev A period that can be paid on chain now: live, payment time reached and fully covered.
    function _payable(uint256 period) private returns (Period storage p) {
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

    function _checkTerms(PeriodTerms memory t) private view {
        if (t.couponDen == 0) revert InvalidRational(t.couponNum, t.couponDen);
        if (t.principalDen == 0) revert InvalidRational(t.principalNum, t.principalDen);
        if (t.redeemDen == 0 || t.redeemNum > t.redeemDen) revert InvalidRational(t.redeemNum, t.redeemDen);
        if (t.recordTime >= t.paymentTime || t.recordTime <= block.timestamp || t.paymentTime > type(uint40).max) {
            revert InvalidTimes(t.recordTime, t.paymentTime);
        }
    }

    /// @dev The terms of `p`: slot 0 in one read (recordTime [0,40) | paymentTime [40,80) | flags [80,88) |
    ///      couponNum [96,184) | couponDen [184,256)); the wide coupon, principal and redeemed-fraction slots
    ///      only when their flag is set.
    function _terms(Period storage p) private view returns (PeriodTerms memory t) {
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

    /// @dev Stores checked terms (`_checkTerms` bounds the times to 40 bits), keeping the state flags. Only what
    ///      differs from the defaults gets a slot: a coupon rational too wide for slot 0, a non-zero principal
    ///      (a zero principal reads back as 0/1, the same rational) and a redeemed fraction other than 0/1.
    function _storeTerms(Period storage p, PeriodTerms memory t) private {
        uint256 flags =
            p.flags & (P_CANCELLED | P_DEFAULTED | P_CLOSED | P_COVERED | P_REQUIRED_KNOWN | P_AFTER_RETIREMENT);
        bool fits = t.couponNum <= type(uint88).max && t.couponDen <= type(uint72).max;
        if (!fits) {
            flags |= P_WIDE_COUPON;
            (p.wideCouponNum, p.wideCouponDen) = (t.couponNum, t.couponDen);
        }
        if (t.principalNum != 0) {
            flags |= P_PRINCIPAL;
            (p.principalNum, p.principalDen) = (t.principalNum, t.principalDen);
        }
        if (t.redeemNum != 0 || t.redeemDen != 1) {
            flags |= P_REDEEMS;
            (p.redeemNum, p.redeemDen) = (t.redeemNum, t.redeemDen);
        }
        p.recordTime = uint40(t.recordTime);
        p.paymentTime = uint40(t.paymentTime);
        p.flags = uint16(flags);
        (p.couponNum, p.couponDen) = fits ? (uint88(t.couponNum), uint72(t.couponDen)) : (0, 0);
    }

    function _is(Period storage p, uint16 flag) private view returns (bool) {
        return p.flags & flag != 0;
    }

    function _flag(Period storage p, uint16 flag, bool on) private {
        p.flags = on ? p.flags | flag : p.flags & ~flag;
    }

    function _addPeriod(PeriodTerms memory t) private returns (uint256 period) {
        period = _periodCount;
        if (period >= MAX_PERIODS) revert TooManyPeriods(period + 1, MAX_PERIODS);
        _periodCount = uint16(period + 1);
        Period storage p = _periods[period];
        _storeTerms(p, t);
        p.reclaimAfter = t.paymentTime + _reclaimDelay;
        emit PeriodScheduled(period, t);
    }

    function _setTaxClass(uint8 taxClass, TaxComponent[] memory components) private {
        uint256 n = components.length;
        uint256 total;
        for (uint256 i; i < n; ++i) {
            total += components[i].ratePpm;
        }
        if (n > MAX_TAX_COMPONENTS || total > PPM) revert InvalidTaxClass(taxClass, n, total);
        _sweep(taxClass); // tax withheld under the old components goes to the old accounts
        TaxComponent[] storage comps = _taxClasses[taxClass];
        TaxComponent[] memory old = comps;
        while (comps.length != 0) comps.pop();
        uint256[2] memory words = [n << COUNT_SHIFT, 0];
        for (uint256 i; i < n; ++i) {
            comps.push(components[i]);
            words[i >> 1] |= uint256(components[i].ratePpm) << ((i & 1) * 32);
        }
        // The sweep above left no accrued amount, so the words hold rates and count only.
        _taxWords[taxClass][0] = words[0];
        if (n > 2) _taxWords[taxClass][1] = words[1];
        if (n != 0) {
            _taxClassSet |= 1 << taxClass;
        } else {
            _taxClassSet &= ~(1 << taxClass);
        }
        emit TaxClassUpdated(taxClass, old, components);
    }

    /// @dev Writes the sorted, de-duplicated record times of the live periods to the token, with the ones at which
    ///      units retire.
    function _syncRecordTimes() private {
        uint256[] memory times = _liveRecordTimes();
        _token().setRecordTimes(times);
        emit RecordTimesSynced(times);
        _syncRetirements(times);
        _syncClosing(false);
    }

    /// @dev Marks for the token the schedule indexes (in `times`, the live record times) at which a live period
    ///      retires units, with each one's fraction. Passed record times keep their index and their period, so a
    ///      retirement that has taken effect is never changed.
    function _syncRetirements(uint256[] memory times) private {
        uint256 bits;
        uint256 n = _periodCount;
        for (uint256 i; i < n; ++i) {
            Period storage p = _periods[i];
            if (_is(p, P_CANCELLED) || !_is(p, P_REDEEMS) || p.redeemNum == 0) continue;
            uint256 time = p.recordTime;
            uint256 j;
            while (times[j] != time) ++j; // every live record time is in `times`
            if ((bits >> j) & 1 != 0) revert RetirementsShareRecordTime(time);
            bits |= 1 << j;
            _retirementAt[time] = uint256(p.redeemNum) | (uint256(p.redeemDen) << 64);
        }
        _retiringIndexes = bits;
    }

    /// @dev The sorted, de-duplicated record times of the live periods.
    function _liveRecordTimes() private view returns (uint256[] memory times) {
        uint256 n = _periodCount;
        times = new uint256[](n);
        uint256 count;
        for (uint256 i; i < n; ++i) {
            Period storage p = _periods[i];
            if (_is(p, P_CANCELLED)) continue;
            uint256 time = p.recordTime;
            uint256 j = count;
            while (j != 0 && times[j - 1] > time) {
                times[j] = times[j - 1];
                --j;
            }
            times[j] = time;
            ++count;
        }
        uint256 unique;
        for (uint256 i; i < count; ++i) {
            if (unique == 0 || times[unique - 1] != times[i]) times[unique++] = times[i];
        }
        count = unique;
        assembly ("memory-safe") {
            mstore(times, count)
        }
    }

    /// @dev Tells the token whether the series closes after its last record time: when a live period with the
    ///      latest record time retires every unit (final redemption or full call), units moved after it would be
    ///      neither paid nor burned. `onlyIfCloses`: skip the call when the answer is no (the token's default).
    function _syncClosing(bool onlyIfCloses) private {
        uint256 n = _periodCount;
        uint256 last;
        bool closes;
        for (uint256 i; i < n; ++i) {
            Period storage p = _periods[i];
            if (_is(p, P_CANCELLED)) continue;
            uint256 t = p.recordTime;
            bool full = _is(p, P_REDEEMS) && p.redeemNum == p.redeemDen;
            if (t > last) (last, closes) = (t, full);
            else if (t == last && full) closes = true;
        }
        if (closes || !onlyIfCloses) _token().setClosesAfterLastRecordTime(closes);
    }
}
