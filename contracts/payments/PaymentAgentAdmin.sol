// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IPaymentAgentAdmin} from "../interfaces/IPaymentAgent.sol";
import {IPaymentAgentInit} from "../interfaces/IPaymentAgentInit.sol";
import {PaymentAgentStorage} from "./PaymentAgentStorage.sol";

/// @title PaymentAgentAdmin
/// @notice Cold code of a series' payments: initialization, schedule amendments and calls, tax configuration and
///         every view. One instance per chain, reached by delegatecall from PaymentAgent's fallback, so it runs in
///         the series' storage with the series' roles. Calling it directly changes nothing of any series.
contract PaymentAgentAdmin is PaymentAgentStorage, IPaymentAgentAdmin, IPaymentAgentInit {
    /// @notice The series admin role (schedule amendments, calls, tax configuration).
    bytes32 public constant DEFAULT_ADMIN_ROLE = 0x00;
    /// @notice Role allowed to fund, push, record off-chain payments, release escrow and reclaim.
    bytes32 public constant PAYER_ROLE = keccak256("PAYER_ROLE");
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
    /// @inheritdoc IPaymentAgentAdmin
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
    /// @inheritdoc IPaymentAgentAdmin
    function scheduleCall(PeriodTerms calldata terms) external onlyAdmin returns (uint256 period) {
        // A series deployed without payment parameters has no payment token and never gets periods: a call there
        // would retire units that nothing can pay.
        if (_lock == 0) revert PaymentsNotInitializable();
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
    /// @inheritdoc IPaymentAgentAdmin
    function setTaxClass(uint8 taxClass, TaxComponent[] calldata components) external onlyAdmin {
        _setTaxClass(taxClass, components);
    }
    /// @inheritdoc IPaymentAgentAdmin
    function setTaxAccount(address account) external onlyAdmin {
        if (account == address(0)) revert ZeroAddress();
        _sweepSet(_taxClassSet); // tax withheld so far goes to the accounts configured when it was withheld
        address old = _taxAccount;
        _taxAccount = account;
        emit TaxAccountUpdated(old, account);
    }
    /// @inheritdoc IPaymentAgentAdmin
    function setTermSheetHash(bytes32 newHash) external onlyAdmin {
        bytes32 old = _termSheetHash;
        _termSheetHash = newHash;
        emit TermSheetHashUpdated(old, newHash);
    }
    /// @inheritdoc IPaymentAgentAdmin
    function syncRecordTimes() external onlyAdmin {
        _syncRecordTimes();
    }
    /// @inheritdoc IPaymentAgentAdmin
    function token() external view returns (address) {
        return address(_token());
    }
    /// @inheritdoc IPaymentAgentAdmin
    function registry() external view returns (address) {
        return _registry();
    }
    /// @inheritdoc IPaymentAgentAdmin
    function paymentToken() external view returns (address) {
        return _paymentToken();
    }
    /// @inheritdoc IPaymentAgentAdmin
    function taxAccount() external view returns (address) {
        return _taxAccount;
    }
    /// @inheritdoc IPaymentAgentAdmin
    function termSheetHash() external view returns (bytes32) {
        return _termSheetHash;
    }
    /// @inheritdoc IPaymentAgentAdmin
    function reclaimDelay() external view returns (uint64) {
        return _reclaimDelay;
    }
    /// @inheritdoc IPaymentAgentAdmin
    function callNotice() external view returns (uint64) {
        return _callNotice;
    }
    /// @inheritdoc IPaymentAgentAdmin
    function periodCount() external view returns (uint256) {
        return _periodCount;
    }
    /// @inheritdoc IPaymentAgentAdmin
    function periodTerms(uint256 period) external view returns (PeriodTerms memory) {
        return _terms(_get(period));
    }
    /// @inheritdoc IPaymentAgentAdmin
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
    /// @inheritdoc IPaymentAgentAdmin
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
    /// @inheritdoc IPaymentAgentAdmin
    function fundingShortfall(uint256 period) external view returns (uint256) {
        Period storage p = _get(period);
        uint256 required = _required(period, p);
        uint256 covered = uint256(p.funded) + p.offchainGross;
        return required > covered ? required - covered : 0;
    }
    /// @inheritdoc IPaymentAgentAdmin
    function requiredFunding(uint256 period) external view returns (uint256) {
        Period storage p = _get(period);
        return _required(period, p);
    }
    /// @inheritdoc IPaymentAgentAdmin
    function entitlement(uint256 period, address holder)
        external
        view
        returns (uint256 couponGross, uint256 principalGross, uint256 unitsRedeemed)
    {
        PeriodTerms memory t = _terms(_get(period));
        return _amounts(t, _balanceOfAt(holder, t.recordTime));
    }
    /// @inheritdoc IPaymentAgentAdmin
    function withholding(uint8 taxClass, uint256 couponGross)
        external
        view
        returns (uint256[] memory taxes, uint256 total)
    {
        return _withholdingOf(taxClass, couponGross);
    }
    /// @inheritdoc IPaymentAgentAdmin
    function isSettled(uint256 period, address holder) external view returns (bool) {
        if (period >= _periodCount) return false;
        Period storage p = _periods[period];
        // Nothing settles before the record time has passed (and cancelled periods never settle).
        if (_is(p, P_CANCELLED) || block.timestamp <= p.recordTime) return false;
        _recordIndex(p.recordTime); // the record time is in the token's schedule
        return _settledIn(period, holder, _acct[holder] >> S_SETTLED);
    }
    /// @inheritdoc IPaymentAgentAdmin
    function escrowOf(uint256 period, address holder) external view returns (uint256) {
        Escrow storage e = _escrow[period][holder];
        return uint256(e.couponGross) + e.principalGross;
    }
    /// @inheritdoc IPaymentAgentAdmin
    function taxPending(uint8 taxClass) external view returns (uint256[] memory amounts) {
        uint256 n = _taxClasses[taxClass].length;
        amounts = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            amounts[i] = _due(_taxWords[taxClass][i >> 1], i);
        }
    }
    /// @inheritdoc IPaymentAgentAdmin
    function taxComponents(uint8 taxClass) external view returns (TaxComponent[] memory) {
        return _taxClasses[taxClass];
    }
    /// @inheritdoc IPaymentAgentAdmin
    function openDefaults() external view returns (uint256) {
        return _openDefaults;
    }

    /// @inheritdoc IPaymentAgentAdmin
    function undelivered(address holder) external view returns (uint256) {
        return _undelivered[holder];
    }

    /// @inheritdoc IPaymentAgentAdmin
    function taxArrears(address account) external view returns (uint256) {
        return _taxArrears[account];
    }

    /// @inheritdoc IPaymentAgentAdmin
    function committedFunds() public view returns (uint256 committed) {
        uint256 n = _periodCount;
        for (uint256 i; i < n; ++i) {
            Period storage p = _periods[i];
            committed += uint256(p.held) + p.escrowed;
        }
        uint256 classes = _taxClassSet;
        for (uint256 c; classes != 0; ++c) {
            if (classes & 1 != 0) {
                uint256 count = _taxClasses[uint8(c)].length;
                for (uint256 k; k < count; ++k) {
                    committed += _due(_taxWords[uint8(c)][k >> 1], k);
                }
            }
            classes >>= 1;
        }
        committed += uint256(_undeliveredTotal) + _taxArrearsTotal;
    }

    /// @inheritdoc IPaymentAgentAdmin
    function recoverTokens(address token_, address to, uint256 amount) external onlyAdmin nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        uint256 balance = IERC20(token_).balanceOf(address(this));
        uint256 excess = token_ == _paymentToken() ? _excess(balance, committedFunds()) : balance;
        if (amount > excess) revert RecoveryExceedsExcess(token_, amount, excess);
        emit TokensRecovered(token_, to, amount);
        _send(token_, to, amount);
    }

    function _excess(uint256 balance, uint256 committed) private pure returns (uint256) {
        return balance > committed ? balance - committed : 0;
    }

    function _checkTerms(PeriodTerms memory t) private view {
        if (t.couponDen == 0) revert InvalidRational(t.couponNum, t.couponDen);
        if (t.principalDen == 0) revert InvalidRational(t.principalNum, t.principalDen);
        if (t.redeemDen == 0 || t.redeemNum > t.redeemDen) revert InvalidRational(t.redeemNum, t.redeemDen);
        if (t.recordTime >= t.paymentTime || t.recordTime <= block.timestamp || t.paymentTime > type(uint40).max) {
            revert InvalidTimes(t.recordTime, t.paymentTime);
        }
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
