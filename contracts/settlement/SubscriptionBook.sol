// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IBondToken, IBondErrors} from "../interfaces/IBondToken.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {ISubscriptionBook} from "../interfaces/ISubscriptionBook.sol";

/// @title SubscriptionBook
/// @notice The primary subscription book of one offering of one bond series (one instance per offering; its terms
///         are immutable). Investors commit cash for units in [openTime, closeTime); the issuer allots after the
///         close and settles at or after the settlement time in resumable batches: per investor, in one
///         transaction, the allotment is minted (the book holds the series' MINTER_ROLE), the allotted cash goes to
///         the treasury and the rest is refunded. Or the issuer cancels and every unit of cash goes back.
/// @dev Allotment rules: see ISubscriptionBook. PRO_RATA rounding, exactly: S = min(offered, committed), C =
///      committed; investor i gets floor(c_i * S / C), plus one unit if its share has a non-zero fractional part
///      and it is among the first R such investors in arrival order, R = S - sum of the floors.
///      Eligibility is the token's: a commitment is accepted only if `detectTransferRestriction(0, investor,
///      units * unitSize)` is 0 for the whole commitment; at settlement a mint the token refuses with
///      `TransferRestricted` (the investor was frozen, lost its verification, ...) lapses the allotment and the
///      whole commitment is refunded (`AllotmentLapsed`); any other failure reverts the batch.
///      A refund the payment token refuses (a blocklist) is held for the investor's `claim` and never blocks the
///      others; proceeds it refuses to the treasury are held for `claimProceeds` and never block the settlement.
///      Cash comes in only by `commit`, whose balance delta must equal the price (fee-on-transfer tokens are
///      refused).
///      The allotment must be final before the settlement time: a book still unallotted then has lapsed, and
///      `refund` and `claim` return every commitment as after a cancellation (no issuer can hold the cash). The
///      settlement must be complete before the settlement deadline (`SETTLEMENT_PERIOD` after the settlement time):
///      a book still settling then has lapsed for the investors not yet settled, whose whole commitments come back
///      the same way (the book lost its minter role, the series stayed paused, the issuer stopped).
contract SubscriptionBook is ISubscriptionBook, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Allots, settles and cancels.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");

    /// @notice How long after the settlement time the settlement may run; then the investors not settled are
    ///         refunded in full.
    uint256 public constant SETTLEMENT_PERIOD = 30 days;

    /// The series' role that recovers a lost wallet (ERC-3643 `recoveryAddress`); it also moves the wallet's entry.
    bytes32 private constant TRANSFER_AGENT_ROLE = keccak256("TRANSFER_AGENT_ROLE");

    uint8 private constant ALLOTTED_FLAG = 1;
    uint8 private constant SETTLED_FLAG = 2;
    uint8 private constant REFUNDED_FLAG = 4;

    IBondToken private immutable _token;
    IERC20 private immutable _cash;
    address private immutable _treasury;
    uint256 private immutable _price;
    uint256 private immutable _unitSize;
    uint256 private immutable _offered;
    uint256 private immutable _open;
    uint256 private immutable _close;
    uint256 private immutable _settlementTime;

    /// Written by every commitment (one slot).
    struct Book {
        uint96 committedUnits;
        uint32 investors;
        uint32 lastSeq;
        Phase phase;
        Method method;
    }

    /// Written by the allotment and the settlement.
    struct Progress {
        uint96 allottedUnits;
        uint32 processed;
        uint32 cursor; // PRO_RATA / FIRST_COME: sequence number of the last entry
        bool extraClosed; // PRO_RATA: a fractional share got its floor, so no later one gets the extra unit
        uint32 settled;
        uint96 issuedUnits;
    }

    Book private _book;
    Progress private _progress;
    mapping(address investor => Commitment) private _commitments;
    mapping(address investor => uint256) private _held;
    uint256 private _heldProceeds;

    /// @param t the offering's terms (see ISubscriptionBook.Terms)
    /// @param admin DEFAULT_ADMIN_ROLE holder
    /// @param issuer ISSUER_ROLE holder (zero: none yet)
    constructor(Terms memory t, address admin, address issuer) {
        if (t.token.code.length == 0) revert InvalidTerm(1, uint160(t.token));
        if (t.paymentToken.code.length == 0) revert InvalidTerm(2, uint160(t.paymentToken));
        address currency = IBondToken(t.token).currency();
        if (currency != address(0) && currency != t.paymentToken) revert InvalidTerm(2, uint160(t.paymentToken));
        if (t.treasury == address(0)) revert InvalidTerm(3, 0);
        if (t.price == 0) revert InvalidTerm(4, 0);
        if (t.unitSize == 0) revert InvalidTerm(5, 0);
        if (t.offeredUnits == 0 || t.offeredUnits > type(uint96).max) revert InvalidTerm(6, t.offeredUnits);
        if (t.openTime >= t.closeTime) revert InvalidTerm(7, t.closeTime);
        if (t.settlementTime <= t.closeTime) revert InvalidTerm(8, t.settlementTime);
        if (admin == address(0)) revert InvalidTerm(9, 0);
        _token = IBondToken(t.token);
        _cash = IERC20(t.paymentToken);
        _treasury = t.treasury;
        _price = t.price;
        _unitSize = t.unitSize;
        _offered = t.offeredUnits;
        _open = t.openTime;
        _close = t.closeTime;
        _settlementTime = t.settlementTime;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (issuer != address(0)) _grantRole(ISSUER_ROLE, issuer);
        emit SubscriptionOpened(
            t.token,
            t.paymentToken,
            t.treasury,
            t.price,
            t.unitSize,
            t.offeredUnits,
            t.openTime,
            t.closeTime,
            t.settlementTime
        );
    }

    // ================================================================ the window

    /// @inheritdoc ISubscriptionBook
    function commit(uint256 units) external nonReentrant {
        if (units == 0) revert ZeroUnits();
        _inWindow();
        Book memory b = _book;
        if (b.phase != Phase.OPEN) revert WrongPhase(b.phase);
        Commitment memory c = _commitments[msg.sender];
        uint256 total = c.units + units;
        if (total > type(uint96).max) revert TooLarge(total, type(uint96).max);
        uint8 code = _token.detectTransferRestriction(address(0), msg.sender, total * _unitSize);
        if (code != 0) revert NotEligible(msg.sender, total, code);
        if (_token.paused()) revert SeriesPaused(address(_token));
        uint256 committed = b.committedUnits + units;
        if (committed > type(uint96).max) revert TooLarge(committed, type(uint96).max);
        uint256 cash = units * _price;
        if (c.units == 0) ++b.investors;
        uint32 seq = ++b.lastSeq;
        b.committedUnits = uint96(committed);
        _book = b;
        _commitments[msg.sender] = Commitment(uint96(total), 0, seq, 0);
        uint256 before = _cash.balanceOf(address(this));
        _cash.safeTransferFrom(msg.sender, address(this), cash);
        uint256 received = _cash.balanceOf(address(this)) - before;
        if (received != cash) revert PaymentShortfall(cash, received);
        emit Committed(msg.sender, units, total, _price, cash, seq, block.timestamp);
    }

    /// @inheritdoc ISubscriptionBook
    function withdraw(uint256 units) external nonReentrant {
        if (units == 0) revert ZeroUnits();
        _inWindow();
        Book memory b = _book;
        if (b.phase != Phase.OPEN) revert WrongPhase(b.phase);
        Commitment memory c = _commitments[msg.sender];
        if (units > c.units) revert ExceedsCommitment(msg.sender, units, c.units);
        uint256 left = c.units - units;
        if (left == 0) {
            --b.investors;
            delete _commitments[msg.sender];
        } else {
            _commitments[msg.sender].units = uint96(left);
        }
        b.committedUnits -= uint96(units);
        _book = b;
        uint256 cash = units * _price;
        _cash.safeTransfer(msg.sender, cash);
        emit Withdrawn(msg.sender, units, left, _price, cash, block.timestamp);
    }

    // ================================================================ allotment

    /// @inheritdoc ISubscriptionBook
    function allot(Method method, address[] calldata investors, uint256[] calldata units)
        external
        onlyRole(ISSUER_ROLE)
        nonReentrant
    {
        _allotmentTime();
        if (investors.length != units.length) revert LengthMismatch(investors.length, units.length);
        Book memory b = _book;
        if (b.phase == Phase.OPEN) {
            if (method == Method.NONE) revert MethodMismatch(b.method, method);
            b.phase = Phase.ALLOTTING;
            b.method = method;
            _book = b;
        } else if (b.phase != Phase.ALLOTTING) {
            revert WrongPhase(b.phase);
        } else if (method != b.method) {
            revert MethodMismatch(b.method, method);
        }
        Progress memory p = _progress;
        uint256 committed = b.committedUnits;
        uint256 allottable = committed < _offered ? committed : _offered;
        uint256 limit = method == Method.EXPLICIT ? _offered : allottable;
        for (uint256 i; i < investors.length; ++i) {
            _allotOne(method, investors[i], units[i], p, allottable, committed, limit);
        }
        _progress = p;
    }

    /// @inheritdoc ISubscriptionBook
    function finalizeAllotment() external onlyRole(ISSUER_ROLE) nonReentrant {
        _allotmentTime();
        Book memory b = _book;
        Progress memory p = _progress;
        if (b.phase == Phase.OPEN && b.investors != 0) revert WrongPhase(b.phase);
        if (b.phase != Phase.OPEN && b.phase != Phase.ALLOTTING) revert WrongPhase(b.phase);
        uint256 allottable = b.committedUnits < _offered ? b.committedUnits : _offered;
        if (
            (b.method == Method.PRO_RATA || b.method == Method.FIRST_COME)
                && (p.processed != b.investors || p.allottedUnits != allottable)
        ) {
            revert AllotmentIncomplete(p.processed, b.investors, p.allottedUnits, allottable);
        }
        b.phase = Phase.ALLOTTED;
        _book = b;
        emit AllotmentFinalized(b.method, p.allottedUnits, b.committedUnits, _offered);
    }

    // ================================================================ settlement

    /// @inheritdoc ISubscriptionBook
    function settle(address[] calldata investors) external onlyRole(ISSUER_ROLE) nonReentrant {
        Book memory b = _book;
        if (b.phase != Phase.ALLOTTED && b.phase != Phase.SETTLING) revert WrongPhase(b.phase);
        if (block.timestamp < _settlementTime) revert SettlementNotDue(block.timestamp, _settlementTime);
        uint256 deadline = _settlementTime + SETTLEMENT_PERIOD;
        if (block.timestamp >= deadline) revert SettlementDeadlinePassed(block.timestamp, deadline);
        if (_token.paused()) revert SeriesPaused(address(_token));
        Progress memory p = _progress;
        uint256 proceeds;
        for (uint256 i; i < investors.length; ++i) {
            address investor = investors[i];
            Commitment storage s = _commitments[investor];
            Commitment memory c = s;
            if (c.units == 0 || c.flags & SETTLED_FLAG != 0) continue;
            s.flags = c.flags | SETTLED_FLAG;
            ++p.settled;
            uint256 units = c.flags & ALLOTTED_FLAG != 0 ? c.allotted : 0;
            if (units != 0 && !_mint(investor, units)) units = 0;
            p.issuedUnits += uint96(units);
            uint256 paid = units * _price;
            uint256 refunded = (c.units - units) * _price;
            proceeds += paid;
            if (refunded != 0) _refund(investor, refunded);
            emit Settled(investor, units, _price, paid, refunded, block.timestamp);
        }
        _progress = p;
        bool completed = p.settled == b.investors;
        Phase phase = completed ? Phase.SETTLED : Phase.SETTLING;
        if (phase != b.phase) {
            b.phase = phase;
            _book = b;
        }
        if (proceeds != 0) {
            if (_tryTransfer(_treasury, proceeds)) {
                emit ProceedsPaid(_treasury, proceeds, block.timestamp);
            } else {
                _heldProceeds += proceeds;
                emit ProceedsHeld(_treasury, proceeds);
            }
        }
        if (completed) emit SettlementCompleted(p.issuedUnits, p.issuedUnits * _price, block.timestamp);
    }

    /// @inheritdoc ISubscriptionBook
    function cancel() external onlyRole(ISSUER_ROLE) nonReentrant {
        Book memory b = _book;
        if (b.phase != Phase.OPEN && b.phase != Phase.ALLOTTING && b.phase != Phase.ALLOTTED) revert WrongPhase(b.phase);
        b.phase = Phase.CANCELLED;
        _book = b;
        emit SubscriptionCancelled(b.committedUnits, uint256(b.committedUnits) * _price, block.timestamp);
    }

    /// @inheritdoc ISubscriptionBook
    function refund(address[] calldata investors) external nonReentrant {
        if (!_cancelled()) revert WrongPhase(_book.phase);
        for (uint256 i; i < investors.length; ++i) {
            address investor = investors[i];
            Commitment storage s = _commitments[investor];
            Commitment memory c = s;
            if (c.units == 0 || c.flags & (REFUNDED_FLAG | SETTLED_FLAG) != 0) continue;
            s.flags = c.flags | REFUNDED_FLAG;
            _refund(investor, uint256(c.units) * _price);
        }
    }

    /// @inheritdoc ISubscriptionBook
    function claim(address to) external nonReentrant {
        if (to == address(0)) revert IBondErrors.ZeroAddress();
        uint256 cash = _held[msg.sender];
        Commitment storage s = _commitments[msg.sender];
        Commitment memory c = s;
        if (c.units != 0 && c.flags & (REFUNDED_FLAG | SETTLED_FLAG) == 0 && _cancelled()) {
            s.flags = c.flags | REFUNDED_FLAG;
            cash += uint256(c.units) * _price;
        }
        if (cash == 0) revert NothingToClaim(msg.sender);
        _held[msg.sender] = 0;
        _cash.safeTransfer(to, cash);
        emit Refunded(msg.sender, cash, block.timestamp);
    }

    /// @inheritdoc ISubscriptionBook
    function claimProceeds(address to) external nonReentrant {
        if (to == address(0)) revert IBondErrors.ZeroAddress();
        if (msg.sender != _treasury && to != _treasury) revert NotTreasury(msg.sender);
        uint256 cash = _heldProceeds;
        if (cash == 0) revert NothingToClaim(_treasury);
        _heldProceeds = 0;
        _cash.safeTransfer(to, cash);
        emit ProceedsPaid(to, cash, block.timestamp);
    }

    /// @inheritdoc ISubscriptionBook
    function recoverCommitment(address lost, address newWallet) external nonReentrant {
        if (!IAccessControl(address(_token)).hasRole(TRANSFER_AGENT_ROLE, msg.sender)) {
            revert NotTransferAgent(msg.sender);
        }
        if (newWallet == address(0)) revert IBondErrors.ZeroAddress();
        (uint256 lostRecord, uint256 newRecord) =
            IInvestorRegistry(_token.identityRegistry()).records(lost, newWallet);
        address lostIdentity = address(uint160(lostRecord));
        address newIdentity = address(uint160(newRecord));
        if (lostIdentity == address(0) || lostIdentity != newIdentity || lost == newWallet) {
            revert IdentityMismatch(lost, newWallet, lostIdentity, newIdentity);
        }
        Commitment memory c = _commitments[lost];
        uint256 held = _held[lost];
        if (c.units == 0 && held == 0) revert NoCommitment(lost);
        if (_commitments[newWallet].units != 0 || _held[newWallet] != 0) revert CommitmentExists(newWallet);
        _commitments[newWallet] = c;
        delete _commitments[lost];
        _held[newWallet] = held;
        _held[lost] = 0;
        emit CommitmentRecovered(lost, newWallet, c.units, held);
    }

    // ================================================================ views

    /// @inheritdoc ISubscriptionBook
    function terms() external view returns (Terms memory) {
        return Terms(
            address(_token),
            address(_cash),
            _treasury,
            _price,
            _unitSize,
            _offered,
            _open,
            _close,
            _settlementTime
        );
    }

    /// @inheritdoc ISubscriptionBook
    function commitmentOf(address investor) external view returns (Commitment memory) {
        return _commitments[investor];
    }

    /// @inheritdoc ISubscriptionBook
    function heldRefund(address investor) external view returns (uint256) {
        return _held[investor];
    }

    /// @inheritdoc ISubscriptionBook
    function heldProceeds() external view returns (uint256) {
        return _heldProceeds;
    }

    /// @inheritdoc ISubscriptionBook
    function settlementDeadline() external view returns (uint256) {
        return _settlementTime + SETTLEMENT_PERIOD;
    }

    /// @inheritdoc ISubscriptionBook
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
        )
    {
        Book memory b = _book;
        Progress memory p = _progress;
        Phase shown = _cancelled() ? Phase.CANCELLED : b.phase;
        return (shown, b.method, b.committedUnits, b.investors, p.allottedUnits, p.processed, p.settled);
    }

    // ================================================================ internals

    /// One allotment entry: checks it against the method's rule (see ISubscriptionBook) and records it.
    function _allotOne(
        Method method,
        address investor,
        uint256 u,
        Progress memory p,
        uint256 allottable,
        uint256 committed,
        uint256 limit
    ) private {
        Commitment storage s = _commitments[investor];
        Commitment memory c = s;
        if (c.units == 0) revert NoCommitment(investor);
        if (c.flags & ALLOTTED_FLAG != 0) revert AlreadyAllotted(investor);
        if (method != Method.EXPLICIT) {
            if (c.seq <= p.cursor) revert OutOfOrder(investor, c.seq, p.cursor);
            p.cursor = c.seq;
        }
        if (method == Method.PRO_RATA) {
            uint256 share = uint256(c.units) * allottable;
            uint256 floor = share / committed;
            bool fractional = share % committed != 0;
            if (u == floor) {
                if (fractional) p.extraClosed = true;
            } else if (u != floor + 1 || !fractional || p.extraClosed) {
                revert AllotmentRuleBroken(investor, u, floor);
            }
        } else if (method == Method.FIRST_COME) {
            uint256 left = allottable - p.allottedUnits;
            uint256 expected = c.units < left ? c.units : left;
            if (u != expected) revert AllotmentRuleBroken(investor, u, expected);
        } else if (u > c.units) {
            revert AllotmentRuleBroken(investor, u, c.units);
        }
        uint256 allotted = p.allottedUnits + u;
        if (allotted > limit) revert OverAllotted(allotted, limit);
        p.allottedUnits = uint96(allotted);
        ++p.processed;
        s.allotted = uint96(u);
        s.flags = c.flags | ALLOTTED_FLAG;
        emit Allotted(investor, method, u, c.units);
    }

    /// Allotment runs in [closeTime, settlementTime).
    function _allotmentTime() private view {
        if (block.timestamp < _close) revert WindowNotClosed(block.timestamp, _close);
        if (block.timestamp >= _settlementTime) revert AllotmentDeadlinePassed(block.timestamp, _settlementTime);
    }

    /// Cancelled by the issuer, or lapsed: the allotment was not final at the settlement time, or the settlement
    /// not complete at the settlement deadline (then only the investors not settled are refunded).
    function _cancelled() private view returns (bool) {
        Phase phase = _book.phase;
        if (phase == Phase.CANCELLED) return true;
        if (phase == Phase.OPEN || phase == Phase.ALLOTTING) return block.timestamp >= _settlementTime;
        if (phase == Phase.ALLOTTED || phase == Phase.SETTLING) {
            return block.timestamp >= _settlementTime + SETTLEMENT_PERIOD;
        }
        return false;
    }

    function _inWindow() private view {
        if (block.timestamp < _open || block.timestamp >= _close) {
            revert WindowNotOpen(block.timestamp, _open, _close);
        }
    }

    /// Mints `units` book units to `investor`; false (and `AllotmentLapsed`) when the token refuses with
    /// `TransferRestricted`. Any other failure (a lost minter role, out of gas) reverts the batch.
    function _mint(address investor, uint256 units) private returns (bool) {
        try _token.mint(investor, units * _unitSize) {
            return true;
        } catch (bytes memory reason) {
            if (reason.length < 4 + 5 * 32 || bytes4(reason) != IBondErrors.TransferRestricted.selector) {
                assembly ("memory-safe") {
                    revert(add(reason, 32), mload(reason))
                }
            }
            uint256 code;
            uint256 detail;
            assembly ("memory-safe") {
                code := mload(add(reason, 36))
                detail := mload(add(reason, 164))
            }
            emit AllotmentLapsed(investor, units, uint8(code), detail);
            return false;
        }
    }

    /// Pays `cash` to `investor`, or holds it for `claim` when the payment token refuses.
    function _refund(address investor, uint256 cash) private {
        if (_tryTransfer(investor, cash)) {
            emit Refunded(investor, cash, block.timestamp);
        } else {
            _held[investor] += cash;
            emit RefundHeld(investor, cash);
        }
    }

    /// Transfers `cash` of the payment token to `to`; false when the token refuses (reverts or returns false).
    /// Only the first return word is copied, so a hostile token cannot make the book pay for a huge return buffer.
    function _tryTransfer(address to, uint256 cash) private returns (bool ok) {
        address token = address(_cash);
        bytes memory data = abi.encodeCall(IERC20.transfer, (to, cash));
        assembly ("memory-safe") {
            mstore(0, 0)
            ok := call(gas(), token, 0, add(data, 32), mload(data), 0, 32)
            if ok {
                switch returndatasize()
                case 0 { ok := gt(extcodesize(token), 0) }
                default { ok := and(gt(returndatasize(), 31), eq(mload(0), 1)) }
            }
        }
    }
}
