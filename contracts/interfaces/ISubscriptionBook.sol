// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title ISubscriptionBook
/// @notice The primary subscription book of one offering of one bond series: investors commit cash in the payment
///         token for units during [openTime, closeTime), the issuer allots after the close, and allotment and
///         payment settle together at or after the settlement time (units minted, allotted cash to the treasury,
///         the rest refunded), or the issuer cancels and every unit of cash goes back.
/// @dev Units: one book unit is `unitSize` token base units and costs `price` payment-token base units; cash is
///      always `units * price` (exact, no rounding anywhere but the allotment rule).
///      Allotment rules (verified on chain entry by entry; the batches are computed off chain):
///      - PRO_RATA: let S = min(offered, committed) and C = committed units. Investor i with commitment c_i gets
///        floor(c_i * S / C), and the R = S - sum(floor) leftover units go one each, in arrival order, to the
///        investors whose share has a non-zero fractional part (floor with the remainder to the earliest). Entries
///        must come in arrival order (strictly increasing sequence number); the +1 entries must form a prefix of
///        the fractional ones; the allotment completes only when every investor was allotted and the sum is S.
///      - FIRST_COME: in arrival order, each investor gets min(c_i, what is left of the offered units).
///      - EXPLICIT: any order, each investor at most once, each entry at most its commitment, the sum at most the
///        offered units; investors not listed get nothing (refunded at settlement).
///      Arrival order is the sequence number of an investor's commitment: its first commitment, renewed by every
///      increase (an increase goes to the back of the queue); a reduction keeps it.
interface ISubscriptionBook {
    /// @notice Allotment methods.
    enum Method {
        NONE,
        PRO_RATA,
        FIRST_COME,
        EXPLICIT
    }

    /// @notice Phases (the window itself is time-based: OPEN covers before, during and after the window until the
    ///         first allotment entry).
    enum Phase {
        OPEN,
        ALLOTTING,
        ALLOTTED,
        SETTLING,
        SETTLED,
        CANCELLED
    }

    /// @notice One investor's entry in the book.
    /// @param units units committed (and paid for: units * price held by the book)
    /// @param allotted units allotted (valid once `flags & ALLOTTED_FLAG`)
    /// @param seq arrival sequence number (1-based)
    /// @param flags 1 allotted, 2 settled, 4 refunded after cancellation
    struct Commitment {
        uint96 units;
        uint96 allotted;
        uint32 seq;
        uint8 flags;
    }

    /// @notice The offering's terms, fixed at deployment.
    struct Terms {
        address token;
        address paymentToken;
        address treasury;
        uint256 price;
        uint256 unitSize;
        uint256 offeredUnits;
        uint256 openTime;
        uint256 closeTime;
        uint256 settlementTime;
    }

    /// @notice Emitted once, at deployment: the offering's terms.
    event SubscriptionOpened(
        address indexed token,
        address indexed paymentToken,
        address treasury,
        uint256 price,
        uint256 unitSize,
        uint256 offeredUnits,
        uint256 openTime,
        uint256 closeTime,
        uint256 settlementTime
    );
    /// @notice Emitted when `investor` commits `units` more (cash `units * price` received); `totalUnits` is its
    ///         commitment after it and `seq` its (new) place in the arrival order.
    event Committed(
        address indexed investor, uint256 units, uint256 totalUnits, uint256 price, uint256 cash, uint256 seq, uint256 time
    );
    /// @notice Emitted when `investor` reduces its commitment by `units` (cash `units * price` returned at once).
    event Withdrawn(
        address indexed investor, uint256 units, uint256 totalUnits, uint256 price, uint256 cash, uint256 time
    );
    /// @notice Emitted per allotment entry.
    event Allotted(address indexed investor, Method method, uint256 units, uint256 committedUnits);
    /// @notice Emitted when the allotment is complete.
    event AllotmentFinalized(Method method, uint256 allottedUnits, uint256 committedUnits, uint256 offeredUnits);
    /// @notice Emitted when an investor settles: `units` units minted at `price`, `cash` to the treasury,
    ///         `refund` returned (pushed, or held for a claim when the payment token refused it), at `time`.
    event Settled(address indexed investor, uint256 units, uint256 price, uint256 cash, uint256 refund, uint256 time);
    /// @notice Emitted when the token refuses to mint an investor's allotment at settlement (frozen, no longer
    ///         verified, cap, max holders, ...): the allotment lapses and all its cash is refunded.
    ///         `code` is the token's restriction code (IBondCompliance), `detail` its limit.
    event AllotmentLapsed(address indexed investor, uint256 units, uint8 code, uint256 detail);
    /// @notice Emitted when cash reaches an investor (withdrawal excepted): a settlement refund, a cancellation
    ///         refund or a claim of held cash.
    event Refunded(address indexed investor, uint256 cash, uint256 time);
    /// @notice Emitted when the payment token refused a refund to `investor`: the cash waits for `claim`.
    event RefundHeld(address indexed investor, uint256 cash);
    /// @notice Emitted when proceeds leave the book: a settlement batch pays the treasury, or held proceeds are
    ///         claimed (`treasury`: the wallet paid, the treasury or the one it named).
    event ProceedsPaid(address indexed treasury, uint256 cash, uint256 time);
    /// @notice Emitted when the payment token refused a settlement batch's proceeds to the treasury: the cash waits
    ///         in the book for `claimProceeds`.
    event ProceedsHeld(address indexed treasury, uint256 cash);
    /// @notice Emitted when the last investor settled.
    event SettlementCompleted(uint256 unitsIssued, uint256 proceeds, uint256 time);
    /// @notice Emitted when the series' transfer agent moves a lost wallet's entry (`units` committed, `heldCash`
    ///         held refunds) to the investor's new wallet.
    event CommitmentRecovered(address indexed lost, address indexed newWallet, uint256 units, uint256 heldCash);
    /// @notice Emitted when the issuer cancels the subscription.
    event SubscriptionCancelled(uint256 committedUnits, uint256 cash, uint256 time);

    /// @notice A deployment parameter is invalid (`which`: 1 token, 2 payment token, 3 treasury, 4 price,
    ///         5 unit size, 6 offered units, 7 window, 8 settlement time, 9 admin).
    error InvalidTerm(uint8 which, uint256 value);
    /// @notice The window is not open at `time` ([openTime, closeTime)).
    error WindowNotOpen(uint256 time, uint256 openTime, uint256 closeTime);
    /// @notice The window has not closed yet.
    error WindowNotClosed(uint256 time, uint256 closeTime);
    /// @notice The book is not in a phase allowing the call.
    error WrongPhase(Phase phase);
    /// @notice Zero units.
    error ZeroUnits();
    /// @notice The token would not mint `units` book units to `investor` (restriction `code`, see IBondCompliance:
    ///         6 not verified, 3 frozen, 7/8 country/region, 10 over the per-investor cap, ...).
    error NotEligible(address investor, uint256 units, uint8 code);
    /// @notice The series is paused: no commitment and no settlement until it is unpaused.
    error SeriesPaused(address token);
    /// @notice A reduction larger than the commitment.
    error ExceedsCommitment(address investor, uint256 units, uint256 committed);
    /// @notice The book received less than the cash the commitment costs (a fee-on-transfer token).
    error PaymentShortfall(uint256 expected, uint256 received);
    /// @notice Units or cash do not fit the book's fields.
    error TooLarge(uint256 value, uint256 limit);
    /// @notice An allotment call names another method than the one the allotment started with.
    error MethodMismatch(Method current, Method given);
    /// @notice An investor without a commitment in an allotment or settlement entry.
    error NoCommitment(address investor);
    /// @notice An investor allotted twice.
    error AlreadyAllotted(address investor);
    /// @notice A PRO_RATA or FIRST_COME entry out of arrival order.
    error OutOfOrder(address investor, uint256 seq, uint256 lastSeq);
    /// @notice An entry whose units break the method's rule (`expected`: the units the rule gives, for PRO_RATA
    ///         the floor; for EXPLICIT the commitment, the largest allowed).
    error AllotmentRuleBroken(address investor, uint256 units, uint256 expected);
    /// @notice The allotments sum beyond the units that can be allotted.
    error OverAllotted(uint256 allotted, uint256 limit);
    /// @notice The allotment is not complete: `processed` of `investors` allotted, `allotted` of `required` units.
    error AllotmentIncomplete(uint256 processed, uint256 investors, uint256 allotted, uint256 required);
    /// @notice Allotment at or after the settlement time (the book has lapsed: see `refund`).
    error AllotmentDeadlinePassed(uint256 time, uint256 settlementTime);
    /// @notice Settlement before the settlement time.
    error SettlementNotDue(uint256 time, uint256 settlementTime);
    /// @notice Settlement at or after the settlement deadline (the investors not settled are refunded: see
    ///         `refund`).
    error SettlementDeadlinePassed(uint256 time, uint256 deadline);
    /// @notice Only the treasury may send held proceeds anywhere but to the treasury.
    error NotTreasury(address caller);
    /// @notice Nothing for `investor` (for proceeds: the treasury) to claim.
    error NothingToClaim(address investor);
    /// @notice The caller does not hold the series' TRANSFER_AGENT_ROLE.
    error NotTransferAgent(address caller);
    /// @notice The two wallets are not registered to one investor (`lostIdentity`, `newIdentity`: their identities
    ///         in the series' investor registry; the lost wallet must still be registered).
    error IdentityMismatch(address lost, address newWallet, address lostIdentity, address newIdentity);
    /// @notice The new wallet already has an entry in the book (a commitment or held cash).
    error CommitmentExists(address wallet);
    /// @notice Batch arrays of different lengths.
    error LengthMismatch(uint256 a, uint256 b);

    /// @notice Commits `units` more units at the book's price, paying `units * price` of the payment token
    ///         (approved beforehand). Allowed in the window while the series is not paused and the token would
    ///         mint the whole commitment to the caller now (verified, not frozen, allowed country, within the
    ///         per-investor cap). An increase moves the investor to the back of the arrival order.
    function commit(uint256 units) external;
    /// @notice Reduces the caller's commitment by `units` (all of it withdraws) and returns `units * price` at
    ///         once. Only in the window; keeps the arrival order.
    function withdraw(uint256 units) external;
    /// @notice Allots in [closeTime, settlementTime) (issuer role). The first call fixes the method; see the rules
    ///         above.
    function allot(Method method, address[] calldata investors, uint256[] calldata units) external;
    /// @notice Completes the allotment (issuer role) before the settlement time; checks the method's completeness
    ///         rule (PRO_RATA, FIRST_COME: every investor allotted, min(offered, committed) units in all).
    function finalizeAllotment() external;
    /// @notice Settles `investors` (issuer role) in [settlementTime, settlementDeadline), while the series is not
    ///         paused: mints each allotment, pays the allotted cash to the treasury (held for `claimProceeds` when
    ///         the payment token refuses it) and refunds the rest. Investors already settled or without a
    ///         commitment are skipped, so batches can be re-run.
    function settle(address[] calldata investors) external;
    /// @notice Cancels the subscription (issuer role), at any time before the first settlement.
    function cancel() external;
    /// @notice After a cancellation, or when the book lapsed (the allotment was not final at the settlement time,
    ///         or the settlement not complete at the settlement deadline), returns each listed investor's cash
    ///         (anyone may call; idempotent; investors already settled are skipped). A refused transfer is held for
    ///         the investor's claim.
    function refund(address[] calldata investors) external;
    /// @notice Pays the caller's held refunds and, after a cancellation or a lapse, its commitment's cash (unless
    ///         settled) to `to` (another wallet of the investor's when the payment token blocks the first).
    function claim(address to) external;
    /// @notice Pays the proceeds held after the payment token refused them to the treasury: to `to` when the
    ///         caller is the treasury; anyone else may only push them to the treasury itself.
    function claimProceeds(address to) external;

    /// @notice Moves the entry of `lost` (its commitment, allotment, arrival place, flags and held refunds) to
    ///         `newWallet` after the investor lost the first wallet's keys, so that its units and cash reach the new
    ///         wallet (the series' TRANSFER_AGENT_ROLE, which recovers the wallet's units on the series; both
    ///         wallets registered to the same identity; `newWallet` without an entry). Any phase.
    function recoverCommitment(address lost, address newWallet) external;

    /// @notice The offering's terms.
    function terms() external view returns (Terms memory);
    /// @notice The investor's entry.
    function commitmentOf(address investor) external view returns (Commitment memory);
    /// @notice Cash held for `investor` after a refused refund.
    function heldRefund(address investor) external view returns (uint256);
    /// @notice Proceeds held for the treasury after the payment token refused them.
    function heldProceeds() external view returns (uint256);
    /// @notice The end of the settlement: `SETTLEMENT_PERIOD` (30 days) after the settlement time. A book not
    ///         settled by then has lapsed for the investors not yet settled.
    function settlementDeadline() external view returns (uint256);
    /// @notice The book's state; `phase` is CANCELLED for a book that lapsed (not allotted by the settlement time,
    ///         or not settled by the settlement deadline).
    function state()
        external
        view
        returns (
            Phase phase,
            Method method,
            uint256 committedUnits,
            uint256 investors,
            uint256 allottedUnits,
            uint256 processed,
            uint256 settled
        );
}
