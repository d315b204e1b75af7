// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title ITradeSettlement
/// @notice Secondary trades of bond units settled delivery versus payment, for every series and payment token at
///         one address. Seller and buyer agree a `Trade` (both sign it as EIP-712 typed data, or call themselves);
///         agreement locks the seller's units with a partial freeze on the seller's own wallet (the units stay the
///         seller's for record dates); settlement unfreezes them and moves them with the token's ordinary
///         `transferFrom`, so the series' compliance rules run for the buyer at that moment. Three ways to pay:
///         on-chain cash (`settle`: the payment token moves from buyer to seller in the same transaction),
///         off-chain cash (`confirmPayment`: the seller or its named agent confirms receipt under a payment id)
///         and cash on another ledger (`claim`: revealing the preimage of a SHA-256 hash lock delivers the units).
///         See docs/settlement.md.
interface ITradeSettlement {
    /// @notice The terms both parties sign (EIP-712 type `Trade`, field order as here).
    /// @param series the bond token (series) whose units change hands
    /// @param seller the wallet delivering the units (it approves this contract on the series for `units`)
    /// @param buyer the wallet receiving the units (on-chain mode: it approves this contract on the payment token)
    /// @param units bond units delivered
    /// @param paymentToken on-chain mode: the ERC-20 cash leg; other modes: informative (0 or the cash's token on
    ///        the other ledger)
    /// @param price total cash amount in `paymentToken` base units (off-chain mode: in the currency's minor units)
    /// @param expiry Unix time: the trade settles at or before it, is released after it
    /// @param mode 0 on-chain cash, 1 off-chain cash, 2 hash lock (cash on another ledger)
    /// @param paymentRef on-chain: optional payment id; off-chain: the payment id the bank transfer carries (0 =
    ///        named by the confirmer); hash lock: H = sha256(secret)
    /// @param confirmer off-chain mode: an agent (e.g. the seller's bank) who may confirm receipt besides the
    ///        seller; 0 = the seller only
    /// @param nonce any value making the trade unique (two otherwise identical trades need different nonces)
    struct Trade {
        address series;
        address seller;
        address buyer;
        uint256 units;
        address paymentToken;
        uint256 price;
        uint64 expiry;
        uint8 mode;
        bytes32 paymentRef;
        address confirmer;
        uint256 nonce;
    }

    /// @notice Emitted when a trade is agreed and the seller's units are locked.
    event TradeAgreed(bytes32 indexed tradeId, address indexed series, address indexed seller, Trade trade);
    /// @notice Emitted when a series' transfer agent approves a locked trade.
    event TradeApproved(bytes32 indexed tradeId, address indexed series, address indexed transferAgent);
    /// @notice Emitted when a trade settles: `units` moved from `seller` to `buyer` against `price` in
    ///         `paymentToken` (paid on chain in the same transaction in mode 0; confirmed under `paymentId` in
    ///         mode 1; against the hash lock's secret in mode 2) at `settledAt` (block time). The holder register
    ///         reads the acquisition price and date from it.
    event TradeSettled(
        bytes32 indexed tradeId,
        address indexed series,
        address indexed buyer,
        address seller,
        uint256 units,
        address paymentToken,
        uint256 price,
        uint8 mode,
        bytes32 paymentId,
        uint256 settledAt
    );
    /// @notice Emitted with the preimage of a hash lock when a mode-2 trade settles, so the other ledger's leg can
    ///         be released with the same secret.
    event SecretRevealed(bytes32 indexed tradeId, bytes32 indexed hashLock, bytes32 secret);
    /// @notice Emitted when a party cancels a trade; `unitsUnlocked` is 0 when it had not been agreed yet (its
    ///         signatures can no longer be used).
    event TradeCancelled(bytes32 indexed tradeId, address indexed series, address indexed by, uint256 unitsUnlocked);
    /// @notice Emitted when an expired trade's units are unlocked.
    event TradeReleased(bytes32 indexed tradeId, address indexed series, address indexed seller, uint256 unitsUnlocked);
    /// @notice Emitted when a series starts or stops requiring its transfer agent's approval before settlement.
    event ApprovalRequirementSet(address indexed series, bool required, address indexed by);

    /// @notice The trade's terms are unusable: `reason` 1 zero units, 2 missing or identical parties, 3 unknown
    ///         mode, 4 on-chain mode without payment token or price, 5 hash lock without hash, 6 zero series,
    ///         7 off-chain mode whose confirmer is the buyer (it would confirm its own payment).
    error InvalidTrade(uint8 reason, address seller, address buyer, uint256 units, uint8 mode);
    /// @notice The trade is not in a status allowing the call (0 none, 1 locked, 2 approved, 3 settled,
    ///         4 cancelled, 5 released).
    error TradeNotOpen(bytes32 tradeId, uint8 status);
    /// @notice The trade expired at `expiry` (now is `time`).
    error TradeExpired(bytes32 tradeId, uint256 expiry, uint256 time);
    /// @notice The trade expires only at `expiry` (now is `time`).
    error TradeNotExpired(bytes32 tradeId, uint256 expiry, uint256 time);
    /// @notice `signer`'s signature of the trade is missing or invalid.
    error InvalidSignature(bytes32 tradeId, address signer);
    /// @notice The call does not fit the trade's mode.
    error WrongMode(bytes32 tradeId, uint8 mode, uint8 expected);
    /// @notice `caller` is not a party allowed to do this.
    error NotAllowed(bytes32 tradeId, address caller);
    /// @notice The seller cannot cancel a trade of `mode` before `expiry`: the buyer may already have paid (mode 1)
    ///         or learnt the secret's use on the other ledger (mode 2).
    error SellerCannotCancel(bytes32 tradeId, uint8 mode, uint256 expiry);
    /// @notice The series requires its transfer agent's approval and the trade has none (or its giver has lost the
    ///         role).
    error ApprovalRequired(bytes32 tradeId, address series);
    /// @notice `caller` lacks the series' role (2 transfer agent; 3 admin or transfer agent).
    error MissingSeriesRole(address series, address caller, uint8 roles);
    /// @notice The confirmed payment id differs from the one the trade names, or is zero.
    error PaymentIdMismatch(bytes32 tradeId, bytes32 expected, bytes32 given);
    /// @notice sha256(secret) is not the trade's hash lock.
    error WrongSecret(bytes32 tradeId, bytes32 hashLock, bytes32 hashOfSecret);
    /// @notice The seller's balance of the payment token grew by `received`, not `expected` (fee on transfer).
    error PaymentAmountMismatch(address paymentToken, uint256 expected, uint256 received);
    /// @notice After this delivery the seller's wallet would keep `frozen` units frozen, fewer than the `stillLocked`
    ///         units of its other open trades on the series (its freeze shrank: units retired at a record time, an
    ///         agent's unfreeze or forced transfer): cancel or release some of them first.
    error LockShortfall(bytes32 tradeId, address seller, uint256 frozen, uint256 stillLocked);
    /// @notice The seller's payment id `paymentId` already confirmed trade `confirmedTrade`.
    error PaymentIdUsed(bytes32 tradeId, bytes32 paymentId, bytes32 confirmedTrade);

    /// @notice Agrees `trade` and locks the seller's units (partial freeze). Submitted by anyone (a broker, the
    ///         transfer agent, a party): a party that is the caller needs no signature, the other signs the
    ///         EIP-712 digest (EOA or ERC-1271 contract wallet). Each trade id is agreed once.
    /// @return tradeId the EIP-712 digest of `trade`
    function agree(Trade calldata trade, bytes calldata sellerSignature, bytes calldata buyerSignature)
        external
        returns (bytes32 tradeId);

    /// @notice The series' transfer agent approves an open trade that has not expired (needed when the series
    ///         requires it). The approval counts while its giver holds the role; another transfer agent may approve
    ///         again.
    function approveTrade(Trade calldata trade) external;

    /// @notice Settles a mode-0 trade in one transaction: units to the buyer through the token's compliance,
    ///         `price` of the payment token from the buyer to the seller; reverts unless both legs move in full and
    ///         the seller's other open trades keep their locked units (`LockShortfall`).
    function settle(Trade calldata trade) external;

    /// @notice Settles a mode-1 trade: the seller or its confirmer confirms receipt of the bank payment
    ///         `paymentId` (must equal `trade.paymentRef` when that is set; confirms one trade of the seller only).
    function confirmPayment(Trade calldata trade, bytes32 paymentId) external;

    /// @notice Settles a mode-2 trade: `secret` with sha256(secret) == `trade.paymentRef` delivers the units to
    ///         the buyer (anyone may submit it) and is emitted for the other ledger.
    function claim(Trade calldata trade, bytes32 secret) external;

    /// @notice Cancels a trade by one of its parties: before agreement it burns the trade id (signatures become
    ///         useless); after, it unlocks the units (fewer when the seller's freeze shrank: never units the
    ///         seller's other open trades lock). In modes 1 and 2 only the buyer may cancel before expiry.
    function cancel(Trade calldata trade) external;

    /// @notice Unlocks the units of an expired, unsettled trade (anyone), as `cancel` does.
    function release(Trade calldata trade) external;

    /// @notice Makes settlement of `series`' trades need its transfer agent's approval (`approveTrade`, or the
    ///         transfer agent submitting the settlement). Series admin or transfer agent.
    function setApprovalRequired(address series, bool required) external;

    /// @notice Whether `series` requires its transfer agent's approval.
    function approvalRequired(address series) external view returns (bool);

    /// @notice Units of `seller`'s agreed, unsettled trades on `series` (what this contract keeps frozen there).
    function lockedUnits(address series, address seller) external view returns (uint256);

    /// @notice The transfer agent who last approved trade `tradeId` (zero: none); the approval counts while it
    ///         holds the series' TRANSFER_AGENT_ROLE.
    function tradeApprover(bytes32 tradeId) external view returns (address);

    /// @notice The mode-1 trade that `seller`'s payment id `paymentId` confirmed (zero: none).
    function paymentTrade(address seller, bytes32 paymentId) external view returns (bytes32);

    /// @notice Status of a trade id (0 none, 1 locked, 2 approved, 3 settled, 4 cancelled, 5 released).
    function tradeStatus(bytes32 tradeId) external view returns (uint8);

    /// @notice The trade id (EIP-712 digest both parties sign) of `trade`.
    function tradeId(Trade calldata trade) external view returns (bytes32);

    /// @notice The EIP-712 domain separator (name "munibond TradeSettlement", version "1").
    function domainSeparator() external view returns (bytes32);
}
