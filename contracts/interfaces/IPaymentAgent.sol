// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title IPaymentAgentTypes
/// @notice Structs, events and errors of a series' payment code (see IPaymentAgent).
interface IPaymentAgentTypes {
    /// @notice Terms of one payment period.
    /// @param recordTime Unix time at which entitlements are fixed (the token's record time)
    /// @param paymentTime Unix time from which the period can be paid and after which it is in default if unfunded
    /// @param redeemNum numerator of the fraction of each holding retired (burned) in this period; 0 = no burn
    /// @param redeemDen denominator of that fraction (1/1 = final redemption or full call)
    /// @param couponNum numerator of the coupon per unit, in payment-token minor units
    /// @param couponDen denominator of the coupon per unit
    /// @param principalNum numerator of the principal per unit (per retired unit when redeemNum > 0, otherwise per
    ///        held unit, i.e. amortization without burn)
    /// @param principalDen denominator of the principal per unit
    struct PeriodTerms {
        uint64 recordTime;
        uint64 paymentTime;
        uint64 redeemNum;
        uint64 redeemDen;
        uint128 couponNum;
        uint128 couponDen;
        uint128 principalNum;
        uint128 principalDen;
    }

    /// @notice One withholding component of a tax class.
    /// @param ratePpm rate in parts per million of the coupon gross (153150 = 15.315 %)
    /// @param account where the withheld amount goes; zero = the default tax account
    struct TaxComponent {
        uint32 ratePpm;
        address account;
    }

    /// @notice Withholding components of one tax class (used in the initialize parameters).
    struct TaxClassConfig {
        uint8 taxClass;
        TaxComponent[] components;
    }

    /// @notice Layout of the `params` argument of `initialize` (abi.encode of this struct).
    /// @param paymentToken ERC-20 used for the cash leg (any decimals; no fee-on-transfer)
    /// @param payer account receiving PAYER_ROLE (the treasury); zero = none
    /// @param taxAccount default account receiving withheld tax
    /// @param termSheetHash hash of the term sheet the schedule was derived from
    /// @param reclaimDelay seconds after a period's payment time from which unclaimed funds can be reclaimed
    /// @param callNotice minimum seconds between scheduling a call and its payment time
    /// @dev Initialization writes the periods' record times to the token (replacing any it was given): a series'
    ///      record times always come from its payment schedule.
    struct InitParams {
        address paymentToken;
        address payer;
        address taxAccount;
        bytes32 termSheetHash;
        uint64 reclaimDelay;
        uint64 callNotice;
        PeriodTerms[] periods;
        TaxClassConfig[] taxClasses;
    }

    /// @notice State of one period (besides its terms and accounts).
    struct PeriodState {
        uint64 reclaimAfter;
        bool cancelled;
        bool defaulted;
        bool closed;
        bool requiredKnown;
        uint256 required;
        uint256 funded;
    }

    /// @notice Conservation buckets of one period, in payment-token minor units.
    /// @dev funded == paidNet + taxWithheld + escrowed + reclaimed + held holds at all times. `held` is funding not
    ///      (yet) assigned to any holder: unclaimed entitlements, funding covering off-chain payments and the
    ///      rounding remainder; `reclaim` moves it to `reclaimed`. `offchainGross` (paid by bank, outside the
    ///      payment token) and `settledGross` (gross of on-chain settlements, escrow included) are informative.
    struct Accounts {
        uint256 funded;
        uint256 paidNet;
        uint256 taxWithheld;
        uint256 escrowed;
        uint256 reclaimed;
        uint256 held;
        uint256 offchainGross;
        uint256 settledGross;
    }

    // ------------------------------------------------------------------ events

    /// @notice A period was added to the schedule (at initialization or by a call).
    event PeriodScheduled(uint256 indexed period, PeriodTerms terms);
    /// @notice The terms of a not yet recorded, unfunded period were amended by the admin.
    event PeriodAmended(uint256 indexed period, PeriodTerms oldTerms, PeriodTerms newTerms);
    /// @notice A period was cancelled because a full call retires the bond before it.
    event PeriodCancelled(uint256 indexed period);
    /// @notice The admin scheduled an early call (full when the retired fraction is 1).
    event CallScheduled(uint256 indexed period, bool full, uint64 paymentTime, uint64 redeemNum, uint64 redeemDen);
    /// @notice The term-sheet hash changed.
    event TermSheetHashUpdated(bytes32 oldHash, bytes32 newHash);
    /// @notice The withholding components of `taxClass` changed.
    event TaxClassUpdated(uint8 indexed taxClass, TaxComponent[] oldComponents, TaxComponent[] newComponents);
    /// @notice The default tax account changed.
    event TaxAccountUpdated(address oldAccount, address newAccount);
    /// @notice The record times were written to the bond token.
    event RecordTimesSynced(uint256[] times);
    /// @notice `amount` of the payment token was received for `period` from `from`.
    event PeriodFunded(uint256 indexed period, address indexed from, uint256 amount, uint256 funded, uint256 required);
    /// @notice `period` passed its payment time without being fully funded.
    event PaymentDefaulted(uint256 indexed period, uint256 required, uint256 covered);
    /// @notice A defaulted period became fully funded.
    event PaymentDefaultCured(uint256 indexed period, uint256 required, uint256 covered);
    /// @notice A defaulted period was closed by `reclaim` without being cured: it no longer counts in
    ///         `openDefaults` (what it still owed is settled outside the chain; `covered` < `required`).
    event PaymentDefaultEnded(uint256 indexed period, uint256 required, uint256 covered);
    /// @notice `holder` was paid for `period` in the payment token (pushed, claimed, or released from escrow to `to`).
    /// @dev Everything needed to book the payment, as it was at that moment: amounts in payment-token base units.
    /// @param to the wallet paid: `holder`, or on an escrow release the wallet it was released to
    /// @param couponGross coupon before withholding
    /// @param principalGross principal (never taxed)
    /// @param taxClass the tax class the withholding used: the registry's class of `to` when paid (see
    ///        TaxClassUpdated for its components at that time)
    /// @param taxes withheld amount per component of `taxClass`, in component order: floor(couponGross *
    ///        ratePpm / 1e6) each (empty when the class has no components)
    /// @param net couponGross + principalGross - sum(taxes), the amount sent to `to`
    /// @param unitsRedeemed bond units burned in this payment
    event PaymentMade(
        uint256 indexed period,
        address indexed holder,
        address to,
        uint256 couponGross,
        uint256 principalGross,
        uint8 taxClass,
        uint256[] taxes,
        uint256 net,
        uint256 unitsRedeemed
    );
    /// @notice The gross entitlement of a frozen or unverified holder was put in escrow.
    /// @dev Carries no withholding: nothing is withheld at escrow. Withholding happens at release, with the tax
    ///      class of the wallet released to at that time, and the release's PaymentMade carries the split.
    /// @param couponGross coupon held in escrow, payment-token base units
    /// @param principalGross principal held in escrow, payment-token base units
    /// @param unitsRedeemed bond units burned in this settlement
    event PaymentEscrowed(
        uint256 indexed period, address indexed holder, uint256 couponGross, uint256 principalGross, uint256 unitsRedeemed
    );
    /// @notice An escrowed entitlement was released (paid to `to`; the PaymentMade event carries the split).
    /// @param gross couponGross + principalGross released, payment-token base units
    event EscrowReleased(uint256 indexed period, address indexed holder, address indexed to, uint256 gross);
    /// @notice The payer recorded that `holder` was paid for `period` by bank transfer (outside the payment token).
    /// @dev Amounts are in payment-token base units, computed exactly as for an on-chain payment (same rounding):
    ///      the bank pays `net` and the issuer remits `taxes` itself. The withholding is recorded in the event
    ///      only; nothing is accrued, swept or counted in the period's `taxWithheld`.
    /// @param taxClass the registry's tax class of `holder` when recorded (0 for a wallet without a record)
    /// @param taxes withholding per component of `taxClass`, in component order: floor(couponGross * ratePpm /
    ///        1e6) each, with the components in force when recorded
    /// @param net couponGross + principalGross - sum(taxes)
    /// @param unitsRedeemed bond units burned in this settlement
    /// @param paymentReference the payer's reference of the bank transfer (e.g. keccak of its id)
    event OffchainPaymentRecorded(
        uint256 indexed period,
        address indexed holder,
        uint256 couponGross,
        uint256 principalGross,
        uint8 taxClass,
        uint256[] taxes,
        uint256 net,
        uint256 unitsRedeemed,
        bytes32 paymentReference
    );
    /// @notice Withheld tax accrued for `taxClass` was transferred to the component account `account`.
    /// @dev `amount` (payment-token base units) is what accrued for that component since the last transfer, across
    ///      periods and payments: it has no period. The withholding of each payment is in its PaymentMade.
    event TaxSwept(uint8 indexed taxClass, address indexed account, uint256 amount);
    /// @notice The payment token refused withheld tax of `taxClass` for `account` (a blocklisted or rejecting
    ///         account): it stays owed to that account (`taxArrears`) and blocks nothing.
    event TaxTransferFailed(uint8 indexed taxClass, address indexed account, uint256 amount);
    /// @notice Tax arrears owed to `account` were paid to `to` (`account` itself, or where the admin redirected).
    event TaxArrearsPaid(address indexed account, address indexed to, uint256 amount);
    /// @notice The payment token refused a pushed payment's net to `holder`; it waits in the agent for the holder
    ///         (`collectUndelivered`) or the payer (`releaseUndelivered`). The payment itself (PaymentMade) stands.
    event PaymentUndelivered(uint256 indexed period, address indexed holder, uint256 amount);
    /// @notice Net held for `holder` after refused deliveries was paid to `to` (the holder or a wallet of its investor).
    event UndeliveredReleased(address indexed holder, address indexed to, uint256 amount);
    /// @notice Tokens the series did not owe anyone (sent to it by mistake, or payment token beyond every
    ///         commitment) were returned by the admin.
    event TokensRecovered(address indexed token, address indexed to, uint256 amount);
    /// @notice Funding not assigned to any holder (unclaimed, off-chain covered, rounding remainder) was returned.
    event Reclaimed(uint256 indexed period, address indexed to, uint256 amount);

    // ------------------------------------------------------------------ errors

    /// @notice `period` does not exist (`count` periods are scheduled).
    error UnknownPeriod(uint256 period, uint256 count);
    /// @notice `period` was cancelled by a full call.
    error PeriodIsCancelled(uint256 period);
    /// @notice `period` has been reclaimed; no more on-chain payments.
    error PeriodIsClosed(uint256 period);
    /// @notice The record time of `period` has not passed yet.
    error PeriodRecordTimeNotPassed(uint256 period, uint256 recordTime, uint256 nowTime);
    /// @notice The payment time of `period` has not come yet.
    error PaymentTimeNotReached(uint256 period, uint256 paymentTime, uint256 nowTime);
    /// @notice `period` is not fully covered (funded plus paid off chain) and cannot be paid.
    error PeriodUnderfunded(uint256 period, uint256 required, uint256 covered);
    /// @notice `period` is fully covered, so it is not in default.
    error PeriodCovered(uint256 period, uint256 required, uint256 covered);
    /// @notice `period` is already marked in default.
    error AlreadyDefaulted(uint256 period);
    /// @notice Funding `amount` exceeds the remaining `shortfall` of `period`.
    error FundingExceedsShortfall(uint256 period, uint256 amount, uint256 shortfall);
    /// @notice The payment token moved `received` instead of `expected` (fee-on-transfer tokens are unsupported).
    error FundingNotReceived(uint256 expected, uint256 received);
    /// @notice Amount must not be zero.
    error ZeroAmount();
    // A zero address where one is required reverts with IBondErrors.ZeroAddress (the series' shared error).
    /// @notice `holder` is already settled for `period` (paid, escrowed or paid off chain).
    error AlreadySettled(uint256 period, address holder);
    /// @notice `holder` has no entitlement in `period`.
    error NothingToPay(uint256 period, address holder);
    /// @notice Payments would use `needed` while only `available` of the funding is unassigned.
    error InsufficientFunds(uint256 period, uint256 needed, uint256 available);
    /// @notice A batch of `length` exceeds the maximum of `max`.
    error BatchTooLarge(uint256 length, uint256 max);
    /// @notice Unclaimed funds of `period` can only be reclaimed from `reclaimAfter`.
    error ReclaimTooEarly(uint256 period, uint256 reclaimAfter, uint256 nowTime);
    /// @notice `holder` has nothing in escrow for `period`.
    error NoEscrow(uint256 period, address holder);
    /// @notice `to` is frozen or not verified, so escrow cannot be released to it.
    error RecipientNotEligible(address to);
    /// @notice `to` is not a wallet of the same investor identity as `holder`.
    error NotSameInvestor(address holder, address to);
    /// @notice Rational `num`/`den` is invalid (zero denominator, or a redeemed fraction above one).
    error InvalidRational(uint256 num, uint256 den);
    /// @notice Times are invalid: record time must precede payment time and lie in the future when scheduled.
    error InvalidTimes(uint256 recordTime, uint256 paymentTime);
    /// @notice `count` periods exceed the maximum of `max`.
    error TooManyPeriods(uint256 count, uint256 max);
    /// @notice A tax class with `count` components and `totalPpm` total rate is invalid.
    error InvalidTaxClass(uint8 taxClass, uint256 count, uint256 totalPpm);
    /// @notice The terms of `period` can no longer change (record time passed, funded or cancelled).
    error TermsLocked(uint256 period);
    /// @notice A call paid at `paymentTime` does not respect the notice; earliest allowed is `earliest`.
    error CallNoticeTooShort(uint256 paymentTime, uint256 earliest);
    /// @notice A call must retire a positive fraction of the holdings.
    error NotACall(uint64 redeemNum, uint64 redeemDen);
    /// @notice Withheld tax accrued for a component of `taxClass` would exceed 94 bits (`amount`); call
    ///         `sweepTax` first.
    error TaxAccrualOverflow(uint8 taxClass, uint256 amount);
    /// @notice Re-entrant call.
    error Reentrancy();
    /// @notice Two live periods that retire units share record time `recordTime` (each retirement is taken from
    ///         the units held at its own record time, so they must differ).
    error RetirementsShareRecordTime(uint256 recordTime);
    /// @notice Nothing is held for `holder` after a refused delivery.
    error NothingUndelivered(address holder);
    /// @notice No withheld tax waits for `account`.
    error NoTaxArrears(address account);
    /// @notice `amount` of `token` exceeds what the series owes no one (`excess`).
    error RecoveryExceedsExcess(address token, uint256 amount, uint256 excess);
}

/// @title IPaymentAgentPayments
/// @notice The money paths of a series' payment code: funding, paying, claiming, escrow, bank records, reclaim,
///         tax transfers and default (served by the PaymentAgent implementation).
interface IPaymentAgentPayments is IPaymentAgentTypes {
    // ------------------------------------------------------------------ payer / treasury

    /// @notice Funds `period` with `amount` of the payment token pulled from the caller (PAYER_ROLE).
    /// @dev O(1) in the number of holders: the requirement is computed from the token's totalSupplyAt. Partial
    ///      funding is allowed; funding after the payment time that leaves the period short marks it in default,
    ///      funding that completes a defaulted period cures it. Requires the record time to have passed.
    /// @param period the period to fund
    /// @param amount amount in payment-token minor units; must not exceed `fundingShortfall(period)`
    function fund(uint256 period, uint256 amount) external;

    /// @notice Pays `holders` for `period` (PAYER_ROLE): idempotent and resumable.
    /// @dev Holders already settled or with no units at the record time are skipped. Frozen or unverified holders
    ///      are escrowed. On periods that retire units the units are burned in the same step. At most
    ///      MAX_BATCH holders per call. At the end of the batch the withheld tax of every tax class it touched
    ///      (claims' accruals included) is transferred, once per component account.
    /// @return paid number of holders settled by this call (paid or escrowed)
    function pushPayments(uint256 period, address[] calldata holders) external returns (uint256 paid);

    /// @notice Pays the caller its entitlement for `period` (pull); burns retired units on redemption periods.
    /// @dev Reverts with AlreadySettled if the caller was already pushed, claimed or paid off chain. The withheld
    ///      tax is accrued in the agent (`taxPending`), counted in the period's `taxWithheld`, and transferred to
    ///      the tax accounts by `sweepTax` or by the next push batch touching the same tax class.
    function claim(uint256 period) external;

    /// @notice Claims several periods in one transaction (see `claim`).
    function claimMany(uint256[] calldata periods) external;

    /// @notice Records that `holders` were paid for `period` by bank transfer (PAYER_ROLE), without moving tokens.
    /// @dev Marks each entitlement settled and burns retired units on redemption periods; the funding that covered
    ///      them (if any) stays `held` and is reclaimable. Holders already settled or with no units revert.
    /// @param references one payment reference hash per holder (e.g. keccak of the bank transfer id)
    function recordOffchainPayments(uint256 period, address[] calldata holders, bytes32[] calldata references)
        external;

    /// @notice Releases the escrowed entitlement of `holder` for `period` to `to` (PAYER_ROLE).
    /// @dev `to` must be verified and not frozen, and be `holder` or another wallet of the same investor identity
    ///      (e.g. after a wallet recovery). Withholding uses the tax class of `to` at release time.
    function releaseEscrow(uint256 period, address holder, address to) external;

    /// @notice Returns the funding of `period` not assigned to any holder to `to` (PAYER_ROLE), closing the period.
    /// @dev Only from `reclaimAfter` (payment time + reclaim delay). Escrowed amounts stay for their holders.
    /// @return amount the amount transferred
    function reclaim(uint256 period, address to) external returns (uint256 amount);

    /// @notice Transfers the withheld tax accrued for each of `taxClasses` to the component accounts (anyone).
    /// @dev Emits TaxSwept per non-zero component. Changing a class's components or the default tax account
    ///      sweeps first, so withheld tax always goes to the account configured when it was withheld.
    function sweepTax(uint8[] calldata taxClasses) external;

    /// @notice Marks `period` in payment default; anyone may call once its payment time passed unfunded.
    function markDefault(uint256 period) external;

    /// @notice Pays the caller's net held after refused deliveries (see `PaymentUndelivered`) to `to`: the caller or
    ///         another wallet of the same investor, verified and not frozen; the caller must not be frozen.
    function collectUndelivered(address to) external returns (uint256 amount);

    /// @notice Pays `holder`'s net held after refused deliveries to `to` (PAYER_ROLE), under the same rules.
    function releaseUndelivered(address holder, address to) external returns (uint256 amount);

    /// @notice Retries the transfer of the tax arrears owed to `account` to that account (anyone).
    function payTaxArrears(address account) external returns (uint256 amount);

    /// @notice Pays the tax arrears owed to `from` to another account `to` (admin): re-routes withheld tax when a
    ///         tax account can no longer receive the payment token (reconfigure with `setTaxAccount` /
    ///         `setTaxClass` for future withholding).
    function redirectTaxArrears(address from, address to) external returns (uint256 amount);
}

/// @title IPaymentAgentAdmin
/// @notice Schedule and tax administration and the views of a series' payment code (served by the
///         PaymentAgentAdmin implementation, reached through PaymentAgent's fallback).
interface IPaymentAgentAdmin is IPaymentAgentTypes {
    // ------------------------------------------------------------------ admin

    /// @notice Replaces the terms of a period whose record time has not passed and that is unfunded (admin).
    /// @dev Emits old and new terms; rewrites the token's record times.
    function amendPeriod(uint256 period, PeriodTerms calldata terms) external;

    /// @notice Schedules an early call (admin): full when redeemNum == redeemDen, otherwise partial pro rata.
    /// @dev The payment time must be at least `callNotice` seconds away. A full call cancels every period with a
    ///      record time at or after the call's record time. Partial calls retire floor(units * redeemNum /
    ///      redeemDen) of each holding (rounded down per holder); principalNum/Den is the price per retired unit,
    ///      couponNum/Den the (accrued) coupon per held unit. Rewrites the token's record times. On a series deployed
    ///      without payment parameters it reverts `PaymentsNotInitializable` (nothing could pay the retired units).
    /// @return period the id of the new period
    function scheduleCall(PeriodTerms calldata terms) external returns (uint256 period);

    /// @notice Sets the withholding components of `taxClass` (admin); an empty list means no withholding.
    function setTaxClass(uint8 taxClass, TaxComponent[] calldata components) external;

    /// @notice Sets the default tax account (admin).
    function setTaxAccount(address account) external;

    /// @notice Sets the term-sheet hash after an amendment of the terms (admin).
    function setTermSheetHash(bytes32 newHash) external;

    /// @notice Writes the record times of all live periods to the bond token (admin).
    function syncRecordTimes() external;

    /// @notice Returns `amount` of `token` held by the series that it owes no one to `to` (admin): any token sent
    ///         by mistake, or of the payment token only what exceeds every period's unassigned funding and escrow,
    ///         pending withholding, tax arrears and undelivered payments.
    function recoverTokens(address token, address to, uint256 amount) external;

    // ------------------------------------------------------------------ views

    /// @notice The bond token of the series.
    function token() external view returns (address);
    /// @notice The shared investor registry.
    function registry() external view returns (address);
    /// @notice The ERC-20 payment token.
    function paymentToken() external view returns (address);
    /// @notice The default tax account.
    function taxAccount() external view returns (address);
    /// @notice Hash of the term sheet.
    function termSheetHash() external view returns (bytes32);
    /// @notice Seconds after the payment time from which unclaimed funds can be reclaimed.
    function reclaimDelay() external view returns (uint64);
    /// @notice Minimum notice in seconds for an early call.
    function callNotice() external view returns (uint64);
    /// @notice Number of scheduled periods (including cancelled ones).
    function periodCount() external view returns (uint256);
    /// @notice Terms of `period`.
    function periodTerms(uint256 period) external view returns (PeriodTerms memory);
    /// @notice State of `period`.
    function periodState(uint256 period) external view returns (PeriodState memory);
    /// @notice Conservation buckets of `period`.
    function accounts(uint256 period) external view returns (Accounts memory);
    /// @notice Amount still needed to fully fund `period` (requires its record time to have passed).
    function fundingShortfall(uint256 period) external view returns (uint256);
    /// @notice Required funding of `period`: coupon and principal on the total supply at its record time.
    function requiredFunding(uint256 period) external view returns (uint256);
    /// @notice Gross entitlement of `holder` for `period` and the units retired with it.
    function entitlement(uint256 period, address holder)
        external
        view
        returns (uint256 couponGross, uint256 principalGross, uint256 unitsRedeemed);
    /// @notice Withholding of `couponGross` for `taxClass`, per component, and the total.
    function withholding(uint8 taxClass, uint256 couponGross)
        external
        view
        returns (uint256[] memory taxes, uint256 total);
    /// @notice True when `holder` is settled for `period` (paid, escrowed or paid off chain).
    function isSettled(uint256 period, address holder) external view returns (bool);
    /// @notice Gross amount held in escrow for `holder` in `period`.
    function escrowOf(uint256 period, address holder) external view returns (uint256);
    /// @notice Withheld tax accrued for `taxClass` and not yet transferred, per component (in component order).
    function taxPending(uint8 taxClass) external view returns (uint256[] memory);
    /// @notice Withholding components of `taxClass`.
    function taxComponents(uint8 taxClass) external view returns (TaxComponent[] memory);
    /// @notice Number of periods in default and not cured; non-zero means the series is in payment default.
    function openDefaults() external view returns (uint256);
    /// @notice Net held for `holder` after refused deliveries.
    function undelivered(address holder) external view returns (uint256);
    /// @notice Withheld tax owed to `account` that it could not receive.
    function taxArrears(address account) external view returns (uint256);
    /// @notice Payment token the series holds for others: unassigned funding and escrow of every period, pending
    ///         withholding, tax arrears and undelivered payments (its balance minus this is recoverable).
    function committedFunds() external view returns (uint256);
}

/// @title IPaymentAgent
/// @notice Cash leg of one bond series: coupons, amortization, redemption and calls paid in an ERC-20
///         payment token (or recorded as paid by bank transfer), with withholding tax by investor tax class.
/// @dev The complete surface (IPaymentAgentPayments + IPaymentAgentAdmin). Its ERC-165 id, which a series with
///      payment code answers, is the XOR of the two parts' ids: every function selector, as if all functions
///      were declared here. Periods are numbered in the order they were scheduled (0, 1, ...). Entitlements are taken from the
///      bond token's balance at the period's record time. Per holder and period, the coupon gross is
///      floor(units * couponNum / couponDen) and the principal gross floor(principalUnits * principalNum /
///      principalDen), each in payment-token minor units; every withholding component is
///      floor(couponGross * ratePpm / 1e6), computed separately; principal is never taxed.
interface IPaymentAgent is IPaymentAgentPayments, IPaymentAgentAdmin {}
