// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IPaymentAgentPayments} from "../interfaces/IPaymentAgent.sol";
import {PaymentAgentStorage} from "./PaymentAgentStorage.sol";

/// @title PaymentAgent
/// @notice Coupon, amortization, call and redemption payments of one bond series: the money paths.
/// @dev Runs by delegatecall in the series' storage, beside the token (BondFactory's routing proxy sends `claim`
///      and `claimMany` here directly, the token's admin extension forwards the other payment functions): it reads
///      record-date units, freezes and roles straight from the token's storage, so a claim makes no call to the
///      token. Schedule and tax administration and the views live in PaymentAgentAdmin, reached through this
///      contract's fallback; the complete surface is IPaymentAgent.
contract PaymentAgent is PaymentAgentStorage, IPaymentAgentPayments {
    using SafeERC20 for IERC20;

    address private immutable _admin;

    /// @param admin_ the PaymentAgentAdmin implementation (schedule, tax configuration, views)
    constructor(address admin_) {
        if (admin_ == address(0)) revert ZeroAddress();
        _admin = admin_;
    }

    /// @notice Everything else of the payment code (administration and views) runs in PaymentAgentAdmin, still in
    ///         the series' storage.
    fallback() external {
        _delegate(_admin);
    }

    /// @notice The PaymentAgentAdmin implementation this payment code forwards to.
    function adminImplementation() external view returns (address) {
        return _admin;
    }

    /// @inheritdoc IPaymentAgentPayments
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
    /// @inheritdoc IPaymentAgentPayments
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
        // The batch holds the lock and books at its end. A holder the payment token refuses (blocklist, a receiver
        // that reverts) does not stop the batch: its net waits in the agent for `collectUndelivered`.
        if (net != 0 && !_trySend(_paymentToken(), holder, net)) {
            _undelivered[holder] += net;
            _undeliveredTotal += uint128(net);
            emit PaymentUndelivered(period, holder, net);
        }
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
    /// @inheritdoc IPaymentAgentPayments
    /// @dev No re-entrancy lock: a claim marks, books and accrues before its one transfer (checks-effects-
    ///      interactions), so re-entering finds the holder settled and the period's funding already reduced.
    function claim(uint256 period) external {
        if (!_claimCoupon(period)) _claim(period);
    }
    /// @inheritdoc IPaymentAgentPayments
    // slither-disable-next-line reentrancy-no-eth
    function claimMany(uint256[] calldata periods) external {
        for (uint256 i; i < periods.length; ++i) {
            uint256 period = periods[i];
            if (!_claimCoupon(period)) _claim(period);
        }
    }
    /// @inheritdoc IPaymentAgentPayments
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
        _emitOffchain(period, holder, cg, pg, ru, ref);
        return cg + pg;
    }
    /// @dev Emits a bank payment with the withholding an on-chain payment to `holder` would have made now (its
    ///      registry tax class, the class's components in force): recorded, not accrued.
    function _emitOffchain(uint256 period, address holder, uint256 cg, uint256 pg, uint256 ru, bytes32 ref) private {
        uint8 taxClass = _taxClass(_record(holder));
        (uint256[] memory taxes, uint256 tax) = _withholdingOf(taxClass, cg);
        emit OffchainPaymentRecorded(period, holder, cg, pg, taxClass, taxes, cg + pg - tax, ru, ref);
    }
    /// @inheritdoc IPaymentAgentPayments
    function releaseEscrow(uint256 period, address holder, address to) external onlyPayer nonReentrant {
        Period storage p = _get(period);
        Escrow memory e = _escrow[period][holder];
        uint256 gross = uint256(e.couponGross) + e.principalGross;
        if (gross == 0) revert NoEscrow(period, holder);
        uint256 record = _eligibleRecipient(holder, to);
        delete _escrow[period][holder];
        p.escrowed -= uint128(gross);
        emit EscrowReleased(period, holder, to, gross);
        uint8 taxClass = _taxClass(record);
        (uint256 net, uint256 tax) = _payNet(period, holder, to, e.couponGross, e.principalGross, 0, taxClass);
        p.taxWithheld += uint128(tax); // the net paid grows by gross - tax (derived, see Period)
        if (net != 0) _send(_paymentToken(), to, net);
        if (tax != 0) _sweep(taxClass);
    }
    /// @inheritdoc IPaymentAgentPayments
    function collectUndelivered(address to) external nonReentrant returns (uint256 amount) {
        if (_acct[msg.sender] & FROZEN != 0) revert RecipientNotEligible(msg.sender);
        return _releaseUndelivered(msg.sender, to);
    }

    /// @inheritdoc IPaymentAgentPayments
    function releaseUndelivered(address holder, address to) external onlyPayer nonReentrant returns (uint256) {
        return _releaseUndelivered(holder, to);
    }

    /// @inheritdoc IPaymentAgentPayments
    function payTaxArrears(address account) external nonReentrant returns (uint256) {
        return _payTaxArrears(account, account);
    }

    /// @inheritdoc IPaymentAgentPayments
    function redirectTaxArrears(address from, address to) external onlyAdmin nonReentrant returns (uint256) {
        if (to == address(0)) revert ZeroAddress();
        return _payTaxArrears(from, to);
    }

    /// @inheritdoc IPaymentAgentPayments
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
    /// @inheritdoc IPaymentAgentPayments
    function sweepTax(uint8[] calldata taxClasses) external nonReentrant {
        for (uint256 i; i < taxClasses.length; ++i) {
            _sweep(taxClasses[i]);
        }
    }
    /// @inheritdoc IPaymentAgentPayments
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
        _emitCouponPaid(period, cg, taxClass, taxes, tax);
        if (cg != tax) _send(paymentToken, msg.sender, cg - tax);
        return true;
    }
    function _emitCouponPaid(uint256 period, uint256 cg, uint8 taxClass, uint256[] memory taxes, uint256 tax) private {
        emit PaymentMade(period, msg.sender, msg.sender, cg, 0, taxClass, taxes, cg - tax, 0);
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
    /// @dev `to` may receive what is held for `holder`: the holder itself or another wallet of the same investor
    ///      identity, verified and not frozen. Returns `to`'s registry record.
    function _eligibleRecipient(address holder, address to) private view returns (uint256 record) {
        record = _record(to);
        if (to != holder) {
            address identity = address(uint160(record));
            if (identity == address(0) || identity != address(uint160(_record(holder)))) {
                revert NotSameInvestor(holder, to);
            }
        }
        if (!_verified(record) || _acct[to] & FROZEN != 0) revert RecipientNotEligible(to);
    }

    function _releaseUndelivered(address holder, address to) private returns (uint256 amount) {
        amount = _undelivered[holder];
        if (amount == 0) revert NothingUndelivered(holder);
        _eligibleRecipient(holder, to);
        delete _undelivered[holder];
        _undeliveredTotal -= uint128(amount);
        emit UndeliveredReleased(holder, to, amount);
        _send(_paymentToken(), to, amount);
    }

    function _payTaxArrears(address account, address to) private returns (uint256 amount) {
        amount = _taxArrears[account];
        if (amount == 0) revert NoTaxArrears(account);
        delete _taxArrears[account];
        _taxArrearsTotal -= uint128(amount);
        emit TaxArrearsPaid(account, to, amount);
        _send(_paymentToken(), to, amount);
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
        uint256[] memory taxes;
        (taxes, total) = _accrue(taxClass, cg);
        net = cg + pg - total;
        emit PaymentMade(period, holder, to, cg, pg, taxClass, taxes, net, ru);
    }
    /// @dev Withholds on `cg` by `taxClass`: returns the amount per component (in component order) and their total,
    ///      accrued in the class's words.
    function _accrue(uint8 taxClass, uint256 cg) private returns (uint256[] memory taxes, uint256 total) {
        uint256[2] storage words = _taxWords[taxClass];
        uint256 w0 = words[0];
        uint256 n = w0 >> COUNT_SHIFT;
        taxes = new uint256[](n);
        if (n != 0 && cg != 0) {
            (words[0], total) = _withhold(taxClass, w0, cg, taxes, 0);
            if (n > 2) {
                (uint256 w1, uint256 more) = _withhold(taxClass, words[1], cg, taxes, 2);
                (words[1], total) = (w1, total + more);
            }
        }
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
    /// @dev The period retired `units` of `holder` at its record time (they no longer move, see `_unitsAt`); the
    ///      token burns them now unless a balance change of the holder already did. Returns `units`, the retired
    ///      units this settlement pays for: always exactly the record-time figure, whatever moved since.
    function _retire(address holder, uint256 units) private returns (uint256) {
        // What `retire` burns now is 0 when a balance change already burned the units; the payment is for `units`.
        // slither-disable-next-line unused-return
        if (units != 0) _redemption().retire(holder);
        return units;
    }
}
