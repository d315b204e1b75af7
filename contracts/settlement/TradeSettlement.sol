// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC3643} from "../interfaces/IERC3643.sol";
import {ITradeSettlement} from "../interfaces/ITradeSettlement.sol";

/// @title TradeSettlement
/// @notice Delivery versus payment for secondary trades of every series, against every payment token. It needs
///         each served series' FREEZER_ROLE (it only ever freezes and unfreezes the units of agreed trades) and
///         holds no bonds and no cash between transactions.
/// @dev Storage is one status byte per trade id: the terms travel in calldata and are re-hashed on every call,
///      so agreeing costs one slot instead of eleven. A lock is a partial freeze on the seller's wallet, added to
///      whatever else is frozen there; delivery unfreezes exactly the trade's units and calls the series'
///      `transferFrom`, whose hook runs every investor rule (pause, both freezes, verification, lock-up, blackout,
///      country, cap, holders, minimum, multiple, units retired at a passed record time).
contract TradeSettlement is ITradeSettlement, EIP712, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice EIP-712 type of `Trade`.
    bytes32 public constant TRADE_TYPEHASH = keccak256(
        "Trade(address series,address seller,address buyer,uint256 units,address paymentToken,uint256 price,"
        "uint64 expiry,uint8 mode,bytes32 paymentRef,address confirmer,uint256 nonce)"
    );
    /// @notice The series role whose holder approves trades (BondToken.TRANSFER_AGENT_ROLE).
    bytes32 public constant TRANSFER_AGENT_ROLE = keccak256("TRANSFER_AGENT_ROLE");

    /// @notice Mode 0: the payment token moves from buyer to seller in the settlement transaction.
    uint8 public constant MODE_ONCHAIN = 0;
    /// @notice Mode 1: the seller or its confirmer confirms receipt of a bank payment under a payment id.
    uint8 public constant MODE_OFFCHAIN = 1;
    /// @notice Mode 2: the preimage of a SHA-256 hash lock delivers the units (cash on another ledger).
    uint8 public constant MODE_HASHLOCK = 2;

    uint8 private constant S_NONE = 0;
    uint8 private constant S_LOCKED = 1;
    uint8 private constant S_APPROVED = 2;
    uint8 private constant S_SETTLED = 3;
    uint8 private constant S_CANCELLED = 4;
    uint8 private constant S_RELEASED = 5;

    mapping(bytes32 tradeId => uint8) private _status;
    mapping(address series => bool) private _approvalRequired;
    /// Units of the seller's agreed, unsettled trades on the series: the part of its wallet freeze that is ours.
    mapping(address series => mapping(address seller => uint256)) private _locked;
    /// The transfer agent whose approval an approved trade carries (it counts while that account holds the role).
    mapping(bytes32 tradeId => address) private _approver;
    /// The mode-1 trade a payment id confirmed, per seller (keccak256(seller, paymentId)).
    mapping(bytes32 sellerPayment => bytes32 tradeId) private _paymentTrade;

    constructor() EIP712("munibond TradeSettlement", "1") {}

    // ================================================================ agreement

    /// @inheritdoc ITradeSettlement
    function agree(Trade calldata trade, bytes calldata sellerSignature, bytes calldata buyerSignature)
        external
        nonReentrant
        returns (bytes32 id)
    {
        _validate(trade);
        id = _tradeId(trade);
        uint8 status = _status[id];
        if (status != S_NONE) revert TradeNotOpen(id, status);
        if (block.timestamp > trade.expiry) revert TradeExpired(id, trade.expiry, block.timestamp);
        _checkParty(id, trade.seller, sellerSignature);
        _checkParty(id, trade.buyer, buyerSignature);
        _status[id] = S_LOCKED;
        emit TradeAgreed(id, trade.series, trade.seller, trade);
        IERC3643(trade.series).freezePartialTokens(trade.seller, trade.units);
        // Counted after the freeze: the series has checked `units` against the seller's free units, so the sum
        // cannot overflow (every entry point is nonReentrant, so nothing reads the count in between).
        _locked[trade.series][trade.seller] += trade.units;
    }

    /// @inheritdoc ITradeSettlement
    function approveTrade(Trade calldata trade) external {
        bytes32 id = _tradeId(trade);
        uint8 status = _status[id];
        if (status != S_LOCKED && status != S_APPROVED) revert TradeNotOpen(id, status);
        if (block.timestamp > trade.expiry) revert TradeExpired(id, trade.expiry, block.timestamp);
        if (!_isTransferAgent(trade.series, msg.sender)) revert MissingSeriesRole(trade.series, msg.sender, 2);
        _status[id] = S_APPROVED;
        _approver[id] = msg.sender;
        emit TradeApproved(id, trade.series, msg.sender);
    }

    // ================================================================ settlement

    /// @inheritdoc ITradeSettlement
    function settle(Trade calldata trade) external nonReentrant {
        bytes32 id = _open(trade, MODE_ONCHAIN);
        _deliver(id, trade);
        IERC20 cash = IERC20(trade.paymentToken);
        uint256 before = cash.balanceOf(trade.seller);
        cash.safeTransferFrom(trade.buyer, trade.seller, trade.price);
        uint256 received = cash.balanceOf(trade.seller);
        received = received > before ? received - before : 0;
        if (received != trade.price) revert PaymentAmountMismatch(trade.paymentToken, trade.price, received);
        _settled(id, trade, trade.paymentRef);
    }

    /// @inheritdoc ITradeSettlement
    function confirmPayment(Trade calldata trade, bytes32 paymentId) external nonReentrant {
        bytes32 id = _open(trade, MODE_OFFCHAIN);
        if (msg.sender != trade.seller && (msg.sender != trade.confirmer || trade.confirmer == address(0))) {
            revert NotAllowed(id, msg.sender);
        }
        if (paymentId == bytes32(0) || (trade.paymentRef != bytes32(0) && paymentId != trade.paymentRef)) {
            revert PaymentIdMismatch(id, trade.paymentRef, paymentId);
        }
        bytes32 sellerPayment = keccak256(abi.encode(trade.seller, paymentId));
        bytes32 usedBy = _paymentTrade[sellerPayment];
        if (usedBy != bytes32(0)) revert PaymentIdUsed(id, paymentId, usedBy);
        _paymentTrade[sellerPayment] = id;
        _deliver(id, trade);
        _settled(id, trade, paymentId);
    }

    /// @inheritdoc ITradeSettlement
    function claim(Trade calldata trade, bytes32 secret) external nonReentrant {
        bytes32 id = _open(trade, MODE_HASHLOCK);
        bytes32 hashed = sha256(abi.encodePacked(secret));
        if (hashed != trade.paymentRef) revert WrongSecret(id, trade.paymentRef, hashed);
        _deliver(id, trade);
        _settled(id, trade, trade.paymentRef);
        emit SecretRevealed(id, trade.paymentRef, secret);
    }

    // ================================================================ cancellation and expiry

    /// @inheritdoc ITradeSettlement
    function cancel(Trade calldata trade) external nonReentrant {
        bytes32 id = _tradeId(trade);
        if (msg.sender != trade.seller && msg.sender != trade.buyer) revert NotAllowed(id, msg.sender);
        uint8 status = _status[id];
        uint256 unlocked;
        if (status == S_LOCKED || status == S_APPROVED) {
            if (msg.sender == trade.seller && trade.mode != MODE_ONCHAIN && block.timestamp <= trade.expiry) {
                revert SellerCannotCancel(id, trade.mode, trade.expiry);
            }
            _status[id] = S_CANCELLED;
            unlocked = _unlock(trade);
        } else if (status == S_NONE) {
            _status[id] = S_CANCELLED;
        } else {
            revert TradeNotOpen(id, status);
        }
        emit TradeCancelled(id, trade.series, msg.sender, unlocked);
    }

    /// @inheritdoc ITradeSettlement
    function release(Trade calldata trade) external nonReentrant {
        bytes32 id = _tradeId(trade);
        uint8 status = _status[id];
        if (status != S_LOCKED && status != S_APPROVED) revert TradeNotOpen(id, status);
        if (block.timestamp <= trade.expiry) revert TradeNotExpired(id, trade.expiry, block.timestamp);
        _status[id] = S_RELEASED;
        emit TradeReleased(id, trade.series, trade.seller, _unlock(trade));
    }

    // ================================================================ configuration and views

    /// @inheritdoc ITradeSettlement
    function setApprovalRequired(address series, bool required) external {
        if (!_isTransferAgent(series, msg.sender) && !IAccessControl(series).hasRole(bytes32(0), msg.sender)) {
            revert MissingSeriesRole(series, msg.sender, 3);
        }
        _approvalRequired[series] = required;
        emit ApprovalRequirementSet(series, required, msg.sender);
    }

    /// @inheritdoc ITradeSettlement
    function approvalRequired(address series) external view returns (bool) {
        return _approvalRequired[series];
    }

    /// @inheritdoc ITradeSettlement
    function lockedUnits(address series, address seller) external view returns (uint256) {
        return _locked[series][seller];
    }

    /// @inheritdoc ITradeSettlement
    function tradeApprover(bytes32 id) external view returns (address) {
        return _approver[id];
    }

    /// @inheritdoc ITradeSettlement
    function paymentTrade(address seller, bytes32 paymentId) external view returns (bytes32) {
        return _paymentTrade[keccak256(abi.encode(seller, paymentId))];
    }

    /// @inheritdoc ITradeSettlement
    function tradeStatus(bytes32 id) external view returns (uint8) {
        return _status[id];
    }

    /// @inheritdoc ITradeSettlement
    function tradeId(Trade calldata trade) external view returns (bytes32) {
        return _tradeId(trade);
    }

    /// @inheritdoc ITradeSettlement
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ================================================================ internals

    function _tradeId(Trade calldata trade) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(TRADE_TYPEHASH, trade)));
    }

    function _validate(Trade calldata t) private pure {
        uint8 reason;
        if (t.units == 0) reason = 1;
        else if (t.seller == address(0) || t.buyer == address(0) || t.seller == t.buyer) reason = 2;
        else if (t.mode > MODE_HASHLOCK) reason = 3;
        else if (t.mode == MODE_ONCHAIN && (t.paymentToken == address(0) || t.price == 0)) reason = 4;
        else if (t.mode == MODE_HASHLOCK && t.paymentRef == bytes32(0)) reason = 5;
        else if (t.series == address(0)) reason = 6;
        else if (t.mode == MODE_OFFCHAIN && t.confirmer == t.buyer) reason = 7;
        if (reason != 0) revert InvalidTrade(reason, t.seller, t.buyer, t.units, t.mode);
    }

    /// A party calling itself needs no signature; otherwise its EOA signature or ERC-1271 answer must be valid.
    /// OpenZeppelin 5.4's SignatureChecker is not used: it imports Bytes, whose `mcopy` needs Cancun, and the
    /// contracts target paris. The same rule is applied here: an ECDSA signature recovering `party` (65 bytes,
    /// low s), else, for a contract wallet, `isValidSignature` returning the ERC-1271 magic value.
    function _checkParty(bytes32 id, address party, bytes calldata signature) private view {
        if (msg.sender == party) return;
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(id, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == party) return;
        if (party.code.length != 0) {
            (bool ok, bytes memory ret) =
                party.staticcall(abi.encodeCall(IERC1271.isValidSignature, (id, signature)));
            if (ok && ret.length >= 32 && abi.decode(ret, (bytes32)) == bytes32(IERC1271.isValidSignature.selector)) {
                return;
            }
        }
        revert InvalidSignature(id, party);
    }

    /// Whether the trade carries an approval whose giver is still the series' transfer agent: an approval given by
    /// an account that has since lost the role (a replaced or compromised key) no longer counts.
    function _approvedByTransferAgent(bytes32 id, uint8 status, address series) private view returns (bool) {
        return status == S_APPROVED && _isTransferAgent(series, _approver[id]);
    }

    /// The id of a locked (or approved) trade of `mode` that has not expired and may settle now; marks it settled
    /// before any external call.
    function _open(Trade calldata trade, uint8 mode) private returns (bytes32 id) {
        id = _tradeId(trade);
        uint8 status = _status[id];
        if (status != S_LOCKED && status != S_APPROVED) revert TradeNotOpen(id, status);
        if (trade.mode != mode) revert WrongMode(id, trade.mode, mode);
        if (block.timestamp > trade.expiry) revert TradeExpired(id, trade.expiry, block.timestamp);
        if (
            _approvalRequired[trade.series] && !_approvedByTransferAgent(id, status, trade.series)
                && !_isTransferAgent(trade.series, msg.sender)
        ) {
            revert ApprovalRequired(id, trade.series);
        }
        _status[id] = S_SETTLED;
    }

    /// The bond leg: the trade's units leave the lock and move through the series' own transfer and compliance.
    /// The seller's wallet freeze is shared (agents' freezes, other trades' locks); when it shrank below what
    /// this contract locked (units retired at a record time, an agent's unfreeze or forced transfer), delivering
    /// would take units the seller's other open trades hold locked, so the delivery is refused until the parties
    /// cancel enough of them.
    function _deliver(bytes32 id, Trade calldata trade) private {
        uint256 stillLocked = _locked[trade.series][trade.seller] - trade.units;
        _locked[trade.series][trade.seller] = stillLocked;
        IERC3643(trade.series).unfreezePartialTokens(trade.seller, trade.units);
        IERC20(trade.series).safeTransferFrom(trade.seller, trade.buyer, trade.units);
        if (stillLocked != 0) {
            uint256 frozen = IERC3643(trade.series).getFrozenTokens(trade.seller);
            if (frozen < stillLocked) revert LockShortfall(id, trade.seller, frozen, stillLocked);
        }
    }

    function _settled(bytes32 id, Trade calldata trade, bytes32 paymentId) private {
        emit TradeSettled(
            id,
            trade.series,
            trade.buyer,
            trade.seller,
            trade.units,
            trade.paymentToken,
            trade.price,
            trade.mode,
            paymentId,
            block.timestamp
        );
    }

    /// Unfreezes the trade's units, or less when the wallet's freeze shrank (units retired at a record time, an
    /// agent's unfreeze or forced transfer): never into the units the seller's other open trades keep locked, so
    /// cancelling a trade whose lock is gone cannot free another trade's units.
    function _unlock(Trade calldata trade) private returns (uint256 units) {
        uint256 others = _locked[trade.series][trade.seller] - trade.units;
        _locked[trade.series][trade.seller] = others;
        uint256 frozen = IERC3643(trade.series).getFrozenTokens(trade.seller);
        uint256 spare = frozen > others ? frozen - others : 0;
        units = trade.units < spare ? trade.units : spare;
        if (units != 0) IERC3643(trade.series).unfreezePartialTokens(trade.seller, units);
    }

    function _isTransferAgent(address series, address account) private view returns (bool) {
        return IAccessControl(series).hasRole(TRANSFER_AGENT_ROLE, account);
    }
}
