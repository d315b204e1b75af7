// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC3643, IAgentRole, IERC173} from "../interfaces/IERC3643.sol";
import {IBondRecordDates} from "../interfaces/IBondRecordDates.sol";
import {IERC1643} from "../interfaces/IERC1643.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";
import {IBondTokenCore, IBondCompliance, IBondTerms} from "../interfaces/IBondToken.sol";
import {IPaymentAgentAdmin, IPaymentAgentPayments} from "../interfaces/IPaymentAgent.sol";
import {BondTokenStorage} from "./BondTokenStorage.sol";
import {BondTokenAdmin} from "./BondTokenAdmin.sol";

/// @title BondToken
/// @notice One bond series: ERC-20 + ERC-3643 token surface + compliance rules evaluated in the token +
///         lazily written record-date checkpoints + ERC-1643 documents + ERC-7092 read-only bond views.
/// @dev Deployed only behind BondFactory's selector-routing proxy with immutable args: the args are
///      abi.encode(address registry, address paymentToken, string name, string symbol, uint8 decimals,
///      BondTerms terms), at ARGS_OFFSET in the series' code. Every balance change goes through
///      `_update` (identity, compliance, freeze, holder count, aggregation, record-date checkpoint).
///      Cold functions (compliance configuration, documents, restriction messages) live in BondTokenAdmin and are
///      reached through the fallback (delegatecall): use the IBondToken ABI for the complete surface.
///      Storage layout and the restriction codes are documented in docs/architecture.md.
contract BondToken is BondTokenStorage, IBondTokenCore, IERC20Errors, Initializable {

    // ---------------------------------------------------------------- roles (bit masks in _roleBits)
    /// @notice Forced transfers and wallet recovery.
    bytes32 public constant TRANSFER_AGENT_ROLE = keccak256("TRANSFER_AGENT_ROLE");
    /// @notice Wallet freeze, partial freeze, pause.
    bytes32 public constant FREEZER_ROLE = keccak256("FREEZER_ROLE");
    /// @notice Mint and burn.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    /// @notice ERC-1643 documents.
    bytes32 public constant DOCUMENT_ROLE = keccak256("DOCUMENT_ROLE");
    /// @notice Compliance rule configuration (the admin may also configure).
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE_ROLE");
    /// @notice The series' payer: funds and pays its periods (the payment code's role; no token power).
    bytes32 public constant PAYER_ROLE = keccak256("PAYER_ROLE");

    address private immutable _extension;

    /// @param extension_ the BondTokenAdmin instance serving the cold functions
    constructor(address extension_) {
        if (extension_ == address(0)) revert ZeroAddress();
        _extension = extension_;
        _disableInitializers();
    }

    /// @notice Everything not implemented here (compliance configuration, documents, messages) runs in the
    ///         admin extension in this token's storage.
    fallback() external {
        _delegate(_extension);
    }

    /// @inheritdoc IBondTokenCore
    function extension() external view returns (address) {
        return _extension;
    }

    // ================================================================ initialization

    /// @inheritdoc IBondTokenCore
    function initialize(
        Roles calldata roles,
        address paymentAgent,
        ComplianceConfig calldata config,
        uint256[] calldata recordTimes_
    ) external initializer {
        if (roles.admin == address(0)) revert ZeroAddress();
        _grantBits(roles.admin, R_ADMIN);
        _grantBits(roles.agent, R_AGENT);
        _grantBits(roles.transferAgent, R_TRANSFER_AGENT);
        _grantBits(roles.freezer, R_FREEZER);
        _grantBits(roles.minter, R_MINTER);
        _grantBits(roles.documentManager, R_DOCUMENT);
        _grantBits(roles.complianceManager, R_COMPLIANCE);
        _grantBits(roles.payer, R_PAYER);
        if (paymentAgent != address(0) && paymentAgent != address(this)) revert InvalidPaymentAgent(paymentAgent);
        if (roles.agent != address(0)) emit AgentAdded(roles.agent);
        _owner = roles.admin;
        emit OwnershipTransferred(address(0), roles.admin);
        emit IdentityRegistryAdded(_registry(0));
        emit ComplianceAdded(address(this));
        // A fixed selector on the immutable extension (slither sees the calldata as input-controlled).
        // slither-disable-next-line controlled-delegatecall
        (bool ok, bytes memory ret) =
            _extension.delegatecall(abi.encodeCall(BondTokenAdmin.configureInitial, (config)));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        if (paymentAgent != address(0)) _hot |= F_PAYMENTS; // after the configuration, which writes the hot word
        if (recordTimes_.length != 0) _writeSchedule(recordTimes_, 0, _hot);
    }

    // ================================================================ ERC-20

    /// @inheritdoc IERC20Metadata
    function name() public view returns (string memory) {
        if (bytes(_nameOverride).length != 0) return _nameOverride;
        (string memory n,,,) = _args();
        return n;
    }

    /// @inheritdoc IERC20Metadata
    function symbol() public view returns (string memory) {
        if (bytes(_symbolOverride).length != 0) return _symbolOverride;
        (, string memory s,,) = _args();
        return s;
    }

    /// @inheritdoc IERC20Metadata
    function decimals() public view returns (uint8) {
        (,, uint8 d,) = _args();
        return d;
    }

    /// @inheritdoc IERC20
    function totalSupply() external view returns (uint256) {
        return _totalSupply;
    }

    /// @inheritdoc IERC20
    function balanceOf(address account) external view returns (uint256) {
        return _acct[account] & M96;
    }

    /// @inheritdoc IERC20
    function allowance(address holder, address spender) external view returns (uint256) {
        return _allowances[holder][spender];
    }

    /// @inheritdoc IERC20
    function approve(address spender, uint256 value) external returns (bool) {
        if (spender == address(0)) revert ERC20InvalidSpender(address(0));
        _allowances[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    /// @inheritdoc IERC20
    function transfer(address to, uint256 value) external returns (bool) {
        _update(msg.sender, to, value, M_TRANSFER);
        return true;
    }

    /// @inheritdoc IERC20
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = _allowances[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < value) revert ERC20InsufficientAllowance(msg.sender, allowed, value);
            unchecked {
                _allowances[from][msg.sender] = allowed - value;
            }
        }
        _update(from, to, value, M_TRANSFER);
        return true;
    }

    // ================================================================ the hook

    /// Every balance change. Agent modes (mint, forced, recovery) bypass the SENDER-side rules (pause, sender
    /// freeze, sender verification, lock-up, blackout, sender minimum/multiple) but never the receiver-side rules.
    function _update(address from, address to, uint256 amount, uint256 mode) private {
        uint256 hot = _hot;
        bool hotDirty;
        uint256 next = (hot >> S_NEXT) & M40;
        if (next != 0 && block.timestamp > next) {
            hot = _roll(hot);
            hotDirty = true;
        }
        if (hot & F_RETIRED != 0) {
            // Units retired at a record time since a party's last balance change leave it before anything moves.
            uint256 before = hot;
            hot = _applyRetirements(from, hot);
            if (to != from) hot = _applyRetirements(to, hot);
            if (hot != before) hotDirty = true;
        }
        Ctx memory c = _load(from, to, amount, mode, hot);
        (uint8 code, uint256 detail) = _evaluate(c);
        if (code != 0) revert TransferRestricted(code, from, to, amount, detail);

        uint256 epoch = (hot >> S_INDEX) & M16;
        if (from != address(0) && from != to) {
            uint256 af = c.af;
            if ((af >> 208) & M16 != epoch) af = _checkpoint(from, af, epoch);
            uint256 nb = (af & M96) - amount;
            af = (af & ~M96) | nb;
            if (af & PARTIAL != 0 && mode == M_FORCED && c.frozenFrom > nb) {
                // only the frozen tokens that had to move are unfrozen
                _frozenTokens[from] = nb;
                emit TokensUnfrozen(from, c.frozenFrom - nb);
                if (nb == 0) af &= ~PARTIAL;
            }
            _acct[from] = af;
            if (c.aggFrom != address(0) && c.aggFrom != c.aggTo) _aggBalance[c.aggFrom] = c.holdFrom - amount;
        }
        if (to != address(0) && from != to) {
            uint256 at = c.at;
            if ((at >> 208) & M16 != epoch) at = _checkpoint(to, at, epoch);
            _acct[to] = at + amount; // balance is the low field and cannot overflow 96 bits (total supply bound)
            if (c.aggTo != address(0) && c.aggFrom != c.aggTo) _aggBalance[c.aggTo] = c.holdTo + amount;
        }
        if (c.holdersChanged) {
            hot = (hot & ~(M24 << S_HOLDERS)) | (c.holders << S_HOLDERS);
            hotDirty = true;
        }
        if (hotDirty) _hot = hot;
        if (from == address(0)) _totalSupply += amount;
        else if (to == address(0)) _totalSupply -= amount;
        emit Transfer(from, to, amount);
    }

    /// The context of a balance change, with the folds it needs already written (see _stale). A failed check
    /// reverts the whole change, folds included.
    function _load(address from, address to, uint256 amount, uint256 mode, uint256 hot)
        private
        returns (Ctx memory c)
    {
        uint256[] memory plan = _context(c, from, to, amount, mode, hot);
        if (plan.length != 0) _commit(plan);
    }

    /// Fills `c`, the context of a balance change as the checks see it: account words, aggregates (folded, see
    /// _stale) and both registry records; returns the storage writes of the folds (empty when none is needed).
    function _context(Ctx memory c, address from, address to, uint256 amount, uint256 mode, uint256 hot)
        private
        view
        returns (uint256[] memory plan)
    {
        c.from = from;
        c.to = to;
        c.amount = amount;
        c.mode = mode;
        c.hot = hot;
        if (from != address(0)) {
            uint256 af = _acct[from];
            c.af = af;
            if (af & PARTIAL != 0) c.frozenFrom = _frozenTokens[from];
            if (af & AGG != 0) {
                address id = _aggOf[from];
                c.aggFrom = id;
                c.holdFrom = _aggBalance[id];
            } else {
                c.holdFrom = af & M96;
            }
        }
        if (to != address(0)) {
            uint256 at = _acct[to];
            c.at = at;
            if (at & AGG != 0) {
                address id = _aggOf[to];
                c.aggTo = id;
                c.holdTo = _aggBalance[id];
            } else {
                c.holdTo = at & M96;
            }
            IInvestorRegistry reg = IInvestorRegistry(_registry(hot));
            if (from != address(0)) (c.rf, c.rt) = reg.records(from, to);
            else c.rt = reg.record(to);
            if ((c.rf | c.rt) & MULTI_WALLET != 0 && _stale(c, reg)) plan = _fold(c, address(reg));
        }
    }

    /// Folds the investors of the parties (planned by the admin extension's cold code, read through this token's
    /// own address) and updates `c` as if folded; returns the plan, whose writes _commit performs.
    function _fold(Ctx memory c, address reg) private view returns (uint256[] memory plan) {
        (bool ok, bytes memory ret) = address(this).staticcall(
            abi.encodeCall(BondTokenAdmin.foldPlan, (c.from, c.to, c.hot, c.rf, c.rt, reg))
        );
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        // `ret` is abi.encode(uint256[]) from this token's own code: the array follows its offset word
        assembly ("memory-safe") {
            plan := add(ret, 64)
        }
        if (plan[PLAN_FROM_ID] != 0) {
            c.af |= AGG;
            c.aggFrom = address(uint160(plan[PLAN_FROM_ID]));
            c.holdFrom = plan[PLAN_FROM_HOLD];
        }
        if (plan[PLAN_TO_ID] != 0) {
            c.at |= AGG;
            c.aggTo = address(uint160(plan[PLAN_TO_ID]));
            c.holdTo = plan[PLAN_TO_HOLD];
        }
        uint256 holders = plan[PLAN_HOLDERS];
        if (holders != (c.hot >> S_HOLDERS) & M24) {
            c.hot = (c.hot & ~(M24 << S_HOLDERS)) | (holders << S_HOLDERS);
            c.holders = holders;
            c.holdersChanged = true;
        }
    }

    /// Multi-wallet investors (pull model): whether a party's registry record has the multiWallet flag while
    /// the party is not aggregated under that identity at the registry's current link generation (then the
    /// identity must be folded, see BondTokenAdmin.foldPlan).
    function _stale(Ctx memory c, IInvestorRegistry reg) private view returns (bool) {
        return _staleParty(c.rf, c.af, c.aggFrom, reg) || _staleParty(c.rt, c.at, c.aggTo, reg);
    }

    /// Whether a party with registry record `r`, account word `a` and aggregate identity `agg` needs a fold.
    function _staleParty(uint256 r, uint256 a, address agg, IInvestorRegistry reg) private view returns (bool) {
        if (r & MULTI_WALLET == 0) return false;
        address id = address(uint160(r));
        if (a & AGG == 0 || agg != id) return true;
        // slither-disable-next-line unused-return (only the link generation is needed)
        (, uint256 generation,) = reg.identityState(id);
        return _aggGen[id] != (generation | (uint256(uint160(address(reg))) << 96));
    }

    /// Writes a fold plan in order: wallets joining an aggregate, aggregates, and per folded identity (after its
    /// wallets and aggregate) the generation key, with InvestorAggregated.
    function _commit(uint256[] memory plan) private {
        uint256 end = PLAN_COUNT + 1 + 2 * plan[PLAN_COUNT];
        uint256 joined;
        for (uint256 i = PLAN_COUNT + 1; i < end; i += 2) {
            uint256 k = plan[i];
            address a = address(uint160(k));
            uint256 v = plan[i + 1];
            if (k & ~M160 == P_JOIN) {
                _acct[a] |= AGG;
                _aggOf[a] = address(uint160(v));
                ++joined;
            } else if (k & ~M160 == P_AGG) {
                _aggBalance[a] = v;
            } else {
                _aggGen[a] = v;
                emit InvestorAggregated(a, joined, _aggBalance[a]);
                joined = 0;
            }
        }
    }

    /// The identity registry: the clone's first immutable arg unless replaced with setIdentityRegistry.
    function _registry(uint256 hot) private view returns (address reg) {
        if (hot & F_REGISTRY != 0) return address(uint160(_cfg));
        assembly ("memory-safe") {
            extcodecopy(address(), 0, ARGS_OFFSET, 32)
            reg := mload(0)
        }
    }

    function _verified(uint256 r) private view returns (bool) {
        return (r & M160) != 0 && block.timestamp < ((r >> 216) & M32);
    }

    function _evaluate(Ctx memory c) private view returns (uint8, uint256) {
        uint256 flags = c.hot & M16;
        bool investor = c.mode == M_TRANSFER;
        uint256 amount = c.amount;
        // Only a mint starts at the zero address and only a burn ends there: an agent path naming it as a party
        // would create or destroy units outside the minter's role (forcedTransfer(0x0, holder) minted).
        if ((c.from == address(0) && c.mode != M_MINT) || (c.to == address(0) && c.mode != M_BURN)) {
            return (C_ADDRESS, 0);
        }
        if (investor) {
            if (flags & F_PAUSED != 0) return (C_PAUSED, 0);
            if (c.af & FROZEN != 0) return (C_SENDER_FROZEN, 0);
        }
        if (c.to != address(0) && flags & F_CLOSES != 0 && _closed(c.hot)) return (C_REDEEMED, 0);
        if (c.to != address(0) && c.mode != M_RECOVERY && c.at & FROZEN != 0) return (C_RECEIVER_FROZEN, 0);
        if (c.from != address(0)) {
            uint256 avail = c.af & M96;
            if (investor || c.mode == M_BURN) avail = avail > c.frozenFrom ? avail - c.frozenFrom : 0;
            if (amount > avail) return (C_BALANCE, avail);
        } else if (_totalSupply + amount > M96) {
            return (C_TOO_LARGE, M96 - _totalSupply);
        }
        if (investor && !_verified(c.rf)) return (C_SENDER_UNVERIFIED, 0);
        if (c.to == address(0)) {
            // burn or redemption: only the holder count can change
            if (c.holdFrom == amount && amount != 0) {
                c.holders = ((c.hot >> S_HOLDERS) & M24) - 1;
                c.holdersChanged = true;
            }
            return (0, 0);
        }
        if (!_verified(c.rt)) return (C_RECEIVER_UNVERIFIED, (c.rt >> 216) & M32);
        if (c.from == c.to) return (0, 0);
        if (investor && flags & (F_LOCKUP | F_BLACKOUT) != 0) {
            (uint8 code, uint256 detail) = _timeRules(flags, c.rf, c.rt);
            if (code != 0) return (code, detail);
        }
        if (flags & F_COUNTRY != 0) {
            uint256 country = (c.rt >> 160) & M16;
            if (!_countryAllowed(country)) return (C_COUNTRY, country);
        }
        if (flags & F_REGION != 0) {
            uint256 pair = (c.rt >> 160) & M40;
            if (!_regionOk(c.hot, pair)) return (C_REGION, pair);
        }
        if (c.aggTo == address(0) || c.aggFrom != c.aggTo) {
            // different investors (or not aggregated): holder count, cap and minimum holding
            uint256 holders = (c.hot >> S_HOLDERS) & M24;
            uint256 h = holders;
            if (amount != 0) {
                if (c.from != address(0) && c.holdFrom == amount) h -= 1;
                if (c.holdTo == 0) {
                    h += 1;
                    if (h > M24) return (C_MAX_HOLDERS, M24);
                    if (flags & F_MAX_HOLDERS != 0) {
                        uint256 maxHolders = (c.hot >> S_MAX_HOLDERS) & M24;
                        if (h > maxHolders) return (C_MAX_HOLDERS, maxHolders);
                    }
                }
                if (flags & F_MAX_INVESTOR != 0) {
                    uint256 cap = (c.hot >> S_CAP) & M96;
                    if (c.holdTo + amount > cap) return (C_CAP, cap);
                }
            }
            if (h != holders) {
                c.holders = h;
                c.holdersChanged = true;
            }
            if (flags & F_MIN != 0) {
                uint256 min = _limits & M64;
                uint256 toAfter = c.holdTo + amount;
                if (toAfter != 0 && toAfter < min) return (C_MIN, min);
                if (investor) {
                    uint256 fromAfter = c.holdFrom - amount;
                    if (fromAfter != 0 && fromAfter < min) return (C_MIN, min);
                }
            }
        }
        if (flags & F_MULTIPLE != 0) {
            uint256 m = (_limits >> 64) & M64;
            if (((c.at & M96) + amount) % m != 0) return (C_MULTIPLE, m);
            if (investor && c.from != address(0) && ((c.af & M96) - amount) % m != 0) return (C_MULTIPLE, m);
        }
        return (0, 0);
    }

    /// Whether every scheduled record time has passed (the series closes then when F_CLOSES is set). In a
    /// transfer the cursor was just rolled, so the hot word answers; a view may see a stale cursor and looks at
    /// the last record time.
    function _closed(uint256 hot) private view returns (bool) {
        uint256 next = (hot >> S_NEXT) & M40;
        if (next == 0) return (hot >> S_INDEX) & M16 != 0;
        if (block.timestamp <= next) return false;
        return block.timestamp > (_schedule[_schedule.length - 1] & M40);
    }

    function _timeRules(uint256 flags, uint256 rf, uint256 rt) private view returns (uint8, uint256) {
        if (flags & F_LOCKUP != 0) {
            uint256 lock = (_limits >> 128) & M40;
            if (block.timestamp < lock && (rf & M160) != (rt & M160)) return (C_LOCKUP, lock);
        }
        if (flags & F_BLACKOUT != 0) {
            uint256 n = _blackouts.length;
            for (uint256 i; i < n; ++i) {
                uint256 w = _blackouts[i];
                if (block.timestamp >= (w & M40) && block.timestamp < (w >> 40)) return (C_BLACKOUT, w >> 40);
            }
        }
        return (0, 0);
    }

    // ================================================================ record dates

    /// Rolls the record-time cursor past every record time before now, writing the total supply at each.
    function _roll(uint256 hot) private returns (uint256) {
        uint256 idx = (hot >> S_INDEX) & M16;
        uint256 n = _schedule.length;
        uint256 supplyBits = (1 << 40) | (_totalSupply << 41);
        uint256 next;
        while (idx < n) {
            uint256 t = _schedule[idx] & M40;
            if (t >= block.timestamp) {
                next = t;
                break;
            }
            _schedule[idx] = t | supplyBits;
            ++idx;
        }
        if (hot & F_RETIRED == 0 && _retiringBetween(0, idx) != 0) hot |= F_RETIRED;
        return (hot & ~((M40 << S_NEXT) | (M16 << S_INDEX))) | (next << S_NEXT) | (idx << S_INDEX);
    }

    /// Burns the units of `account` retired at the record times passed since its last balance change (schedule
    /// indexes in [its epoch, the rolled cursor)), in record order, and writes its balance history as of each of
    /// those record times: the balance at a retiring record time still holds the retired units (they are paid
    /// for that period), every later record time sees them gone. The supply recorded at later passed record times
    /// loses them too. Returns `hot` with the holder count updated.
    function _applyRetirements(address account, uint256 hot) private returns (uint256) {
        if (account == address(0)) return hot;
        uint256 w = _acct[account];
        uint256 epoch = (hot >> S_INDEX) & M16;
        uint256 bits = _retiringBetween((w >> 208) & M16, epoch);
        uint256 before = w & M96;
        uint256 bal = before;
        while (bits != 0) {
            uint256 r = _lowestBit(bits);
            bits &= bits - 1;
            uint256 retired = _retiredAt(bal, r);
            if (retired == 0) continue;
            w = _checkpoint(account, w, r + 1); // the segment up to record index r keeps the retired units
            bal -= retired;
            w = (w & ~M96) | bal;
            for (uint256 j = r + 1; j < epoch; ++j) {
                _schedule[j] -= retired << 41; // recorded supply (every index below the cursor is recorded)
            }
            emit UnitsRetired(account, _schedule[r] & M40, retired);
            emit Transfer(account, address(0), retired);
        }
        if (bal == before) return hot;
        uint256 retiredTotal = before - bal;
        if (w & PARTIAL != 0) {
            uint256 frozen = _frozenTokens[account];
            if (frozen > bal) {
                _frozenTokens[account] = bal;
                emit TokensUnfrozen(account, frozen - bal);
                if (bal == 0) w &= ~PARTIAL;
            }
        }
        _acct[account] = w;
        _totalSupply -= retiredTotal;
        uint256 holding = bal;
        if (w & AGG != 0) {
            address id = _aggOf[account];
            holding = _aggBalance[id] - retiredTotal;
            _aggBalance[id] = holding;
        }
        if (holding == 0) hot -= 1 << S_HOLDERS; // the investor held the retired units, so it was counted
        return hot;
    }

    /// Closes the account's current balance segment (it held from `epoch field` up to `epoch - 1`): it becomes
    /// the in-slot snapshot; the previous snapshot spills into the history only if it carries information.
    function _checkpoint(address account, uint256 w, uint256 epoch) private returns (uint256) {
        uint256 bal = w & M96;
        uint256 e = (w >> 208) & M16;
        uint256 snap1 = (w >> 192) & M16;
        uint256 snapBal = (w >> 96) & M96;
        if (snap1 == 0 || snapBal != bal) {
            if (snap1 != 0) _spill(account, snap1 - 1, snapBal);
            snap1 = e + 1;
        }
        return (w & ~((M96 << 96) | (M16 << 192) | (M16 << 208))) | (bal << 96) | (snap1 << 192) | (epoch << 208);
    }

    /// Appends the segment (`start` record index, balance `bal`) to the account's packed history: two entries
    /// (index [0,16) | balance [16,112)) per word, the entry count in bits [224,256) of word 0. Consecutive
    /// segments always differ (a segment is only closed into the snapshot when its balance changed), so the only
    /// segment equal to the latest history value (0 while empty) is the zero segment before the first balance.
    function _spill(address account, uint256 start, uint256 bal) private {
        mapping(uint256 => uint256) storage h = _history[account];
        uint256 w0 = h[0];
        uint256 n = w0 >> 224;
        if (n == 0 && bal == 0) return;
        uint256 entry = start | (bal << 16);
        if (n < 2) {
            h[0] = w0 + (entry << (112 * n)) + (1 << 224);
            return;
        }
        if (n & 1 == 0) h[n >> 1] = entry;
        else h[n >> 1] |= entry << 112;
        h[0] = w0 + (1 << 224);
    }


    /// @inheritdoc IBondRecordDates
    function recordTimes() external view returns (uint256[] memory times) {
        uint256 n = _schedule.length;
        times = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            times[i] = _schedule[i] & M40;
        }
    }

    /// @inheritdoc IBondRecordDates
    function setRecordTimes(uint256[] calldata times) external {
        // A series with payment code takes its record times from its payment schedule only.
        if (_hot & F_PAYMENTS != 0) {
            if (msg.sender != address(this)) revert NotSeriesPayments(msg.sender);
        } else {
            _onlyAdminOrPayments();
        }
        uint256 hot = _hot;
        uint256 next = (hot >> S_NEXT) & M40;
        if (next != 0 && block.timestamp > next) hot = _roll(hot);
        uint256 passed = (hot >> S_INDEX) & M16;
        uint256[] memory old = new uint256[](_schedule.length);
        for (uint256 i; i < old.length; ++i) {
            old[i] = _schedule[i] & M40;
        }
        if (times.length < passed) revert InvalidRecordTimes(times.length, 0);
        for (uint256 i; i < passed; ++i) {
            if (times[i] != old[i]) revert InvalidRecordTimes(i, times[i]);
        }
        _writeSchedule(times, passed, hot);
        emit RecordTimesUpdated(old, times);
    }

    /// @inheritdoc IBondRecordDates
    function closesAfterLastRecordTime() external view returns (bool) {
        return _hot & F_CLOSES != 0;
    }

    /// @inheritdoc IBondRecordDates
    function setClosesAfterLastRecordTime(bool closes) external {
        _onlyAdminOrPayments();
        bool old = _setFlag(F_CLOSES, closes);
        if (old != closes) emit ClosesAfterLastRecordTimeSet(old, closes);
    }

    function _writeSchedule(uint256[] calldata times, uint256 passed, uint256 hot) private {
        uint256 prev = passed == 0 ? 0 : times[passed - 1];
        for (uint256 i = passed; i < times.length; ++i) {
            uint256 t = times[i];
            if (t <= prev || t < block.timestamp || t > M40 || i > M16) revert InvalidRecordTimes(i, t);
            if (i < _schedule.length) _schedule[i] = t;
            else _schedule.push(t);
            prev = t;
        }
        while (_schedule.length > times.length) _schedule.pop();
        uint256 next = passed < times.length ? times[passed] : 0;
        _hot = (hot & ~(M40 << S_NEXT)) | (next << S_NEXT);
    }


    /// @inheritdoc IBondRecordDates
    function balanceOfAt(address holder, uint256 time) external view returns (uint256) {
        return _balanceOfAt(holder, time);
    }

    /// @inheritdoc IBondTokenCore
    function paymentAccount(address holder, uint256 time)
        external
        view
        returns (uint256 units, bool frozen, uint256 settledBits)
    {
        uint256 w = _acct[holder];
        return (_unitsAt(holder, w, _recordIndex(time)), w & FROZEN != 0, w >> S_SETTLED);
    }




    /// @inheritdoc IBondRecordDates
    function totalSupplyAt(uint256 time) external view returns (uint256) {
        return _supplyAt(_recordIndex(time));
    }

    // ================================================================ multi-wallet investors

    /// @inheritdoc IBondTokenCore
    function syncInvestor(address wallet) external {
        Ctx memory c = _load(wallet, wallet, 0, M_TRANSFER, _hot);
        if (c.holdersChanged) _hot = (_hot & ~(M24 << S_HOLDERS)) | (c.holders << S_HOLDERS);
    }

    // ================================================================ agent actions

    /// @inheritdoc IERC3643
    function mint(address to, uint256 amount) external {
        _only(R_MINTER);
        _update(address(0), to, amount, M_MINT);
    }

    /// @inheritdoc IERC3643
    function burn(address account, uint256 amount) external {
        _only(R_MINTER);
        _update(account, address(0), amount, M_BURN);
    }

    /// @inheritdoc IBondTokenCore
    function retire(address holder) external returns (uint256 units) {
        if (msg.sender != address(this)) revert NotSeriesPayments(msg.sender);
        units = _acct[holder] & M96;
        _settleRecordTimes(holder);
        units -= _acct[holder] & M96;
    }

    /// Rolls the record-time cursor and burns what passed record times retired from `account`.
    function _settleRecordTimes(address account) private {
        uint256 hot = _hot;
        uint256 next = (hot >> S_NEXT) & M40;
        if (next != 0 && block.timestamp > next) hot = _roll(hot);
        if (hot & F_RETIRED != 0) hot = _applyRetirements(account, hot);
        if (hot != _hot) _hot = hot;
    }

    /// @inheritdoc IERC3643
    function forcedTransfer(address from, address to, uint256 amount) external returns (bool) {
        _only(R_TRANSFER_AGENT);
        _update(from, to, amount, M_FORCED);
        return true;
    }

    /// @inheritdoc IERC3643
    function recoveryAddress(address lost, address newWallet, address investorId) external returns (bool) {
        _only(R_TRANSFER_AGENT);
        (uint256 rl, uint256 rn) = IInvestorRegistry(_registry(_hot)).records(lost, newWallet);
        if (address(uint160(rn)) != investorId || investorId == address(0)) {
            revert RecoveryIdentityMismatch(newWallet, investorId, address(uint160(rn)));
        }
        if (rl & M160 != 0 && address(uint160(rl)) != investorId) {
            revert RecoveryIdentityMismatch(lost, investorId, address(uint160(rl)));
        }
        _settleRecordTimes(lost); // units retired at a passed record time stay retired: only the rest moves
        uint256 la = _acct[lost];
        uint256 fz = la & PARTIAL != 0 ? _frozenTokens[lost] : 0;
        _update(lost, newWallet, la & M96, M_RECOVERY);
        if (fz != 0) {
            _acct[lost] &= ~PARTIAL;
            _frozenTokens[lost] = 0;
            _acct[newWallet] |= PARTIAL;
            _frozenTokens[newWallet] += fz;
            emit TokensUnfrozen(lost, fz);
            emit TokensFrozen(newWallet, fz);
        }
        if (la & FROZEN != 0 && _acct[newWallet] & FROZEN == 0) {
            _acct[newWallet] |= FROZEN;
            emit AddressFrozen(newWallet, true, msg.sender);
        }
        emit RecoverySuccess(lost, newWallet, investorId);
        return true;
    }

    /// @inheritdoc IERC3643
    function setAddressFrozen(address account, bool freeze) public {
        _only(R_FREEZER);
        uint256 a = _acct[account];
        _acct[account] = freeze ? a | FROZEN : a & ~FROZEN;
        emit AddressFrozen(account, freeze, msg.sender);
    }

    /// @inheritdoc IERC3643
    function freezePartialTokens(address account, uint256 amount) public {
        _only(R_FREEZER);
        // Units retired at a passed record time are gone even before they are burned: freezing must not count them.
        _settleRecordTimes(account);
        uint256 a = _acct[account];
        uint256 fz = a & PARTIAL != 0 ? _frozenTokens[account] : 0;
        uint256 bal = a & M96;
        // The frozen amount never exceeds the balance; comparing with the free units also refuses an amount so
        // large that adding it would overflow, with the error rather than a panic.
        if (amount > bal - fz) revert InvalidFreezeAmount(account, amount, bal - fz);
        _frozenTokens[account] = fz + amount;
        if (fz + amount != 0) _acct[account] = a | PARTIAL;
        emit TokensFrozen(account, amount);
    }

    /// @inheritdoc IERC3643
    function unfreezePartialTokens(address account, uint256 amount) public {
        _only(R_FREEZER);
        uint256 a = _acct[account];
        uint256 fz = a & PARTIAL != 0 ? _frozenTokens[account] : 0;
        if (amount > fz) revert InvalidFreezeAmount(account, amount, fz);
        _frozenTokens[account] = fz - amount;
        if (fz == amount) _acct[account] = a & ~PARTIAL;
        emit TokensUnfrozen(account, amount);
    }

    /// @inheritdoc IERC3643
    function pause() external {
        _only(R_FREEZER);
        _hot |= F_PAUSED;
        emit Paused(msg.sender);
    }

    /// @inheritdoc IERC3643
    function unpause() external {
        _only(R_FREEZER);
        _hot &= ~F_PAUSED;
        emit Unpaused(msg.sender);
    }

    // ---------------------------------------------------------------- batches

    /// @inheritdoc IERC3643
    function batchTransfer(address[] calldata toList, uint256[] calldata amounts) external {
        _len(toList.length, amounts.length);
        for (uint256 i; i < toList.length; ++i) {
            _update(msg.sender, toList[i], amounts[i], M_TRANSFER);
        }
    }

    /// @inheritdoc IERC3643
    function batchForcedTransfer(address[] calldata fromList, address[] calldata toList, uint256[] calldata amounts)
        external
    {
        _only(R_TRANSFER_AGENT);
        _len(fromList.length, toList.length);
        _len(fromList.length, amounts.length);
        for (uint256 i; i < fromList.length; ++i) {
            _update(fromList[i], toList[i], amounts[i], M_FORCED);
        }
    }

    /// @inheritdoc IERC3643
    function batchMint(address[] calldata toList, uint256[] calldata amounts) external {
        _only(R_MINTER);
        _len(toList.length, amounts.length);
        for (uint256 i; i < toList.length; ++i) {
            _update(address(0), toList[i], amounts[i], M_MINT);
        }
    }

    /// @inheritdoc IERC3643
    function batchBurn(address[] calldata accounts, uint256[] calldata amounts) external {
        _only(R_MINTER);
        _len(accounts.length, amounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            _update(accounts[i], address(0), amounts[i], M_BURN);
        }
    }

    /// @inheritdoc IERC3643
    function batchSetAddressFrozen(address[] calldata accounts, bool[] calldata freeze) external {
        _len(accounts.length, freeze.length);
        for (uint256 i; i < accounts.length; ++i) {
            setAddressFrozen(accounts[i], freeze[i]);
        }
    }

    /// @inheritdoc IERC3643
    function batchFreezePartialTokens(address[] calldata accounts, uint256[] calldata amounts) external {
        _len(accounts.length, amounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            freezePartialTokens(accounts[i], amounts[i]);
        }
    }

    /// @inheritdoc IERC3643
    function batchUnfreezePartialTokens(address[] calldata accounts, uint256[] calldata amounts) external {
        _len(accounts.length, amounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            unfreezePartialTokens(accounts[i], amounts[i]);
        }
    }

    // ================================================================ views

    /// @inheritdoc IERC3643
    function paused() external view returns (bool) {
        return _hot & F_PAUSED != 0;
    }

    /// @inheritdoc IERC3643
    function isFrozen(address account) external view returns (bool) {
        return _acct[account] & FROZEN != 0;
    }

    /// @inheritdoc IERC3643
    function getFrozenTokens(address account) external view returns (uint256) {
        return _acct[account] & PARTIAL != 0 ? _frozenTokens[account] : 0;
    }

    /// @inheritdoc IERC3643
    function identityRegistry() external view returns (address) {
        return _registry(_hot);
    }

    /// @inheritdoc IERC3643
    function compliance() external view returns (address) {
        return address(this);
    }

    /// @inheritdoc IERC3643
    function onchainID() external view returns (address) {
        return _onchainID;
    }

    /// @inheritdoc IERC3643
    function version() public pure returns (string memory) {
        return "1.0.0";
    }

    /// @inheritdoc IERC173
    function owner() external view returns (address) {
        return _owner;
    }

    /// @inheritdoc IBondTokenCore
    function accountState(address account)
        external
        view
        returns (uint256 balance, bool frozen, uint256 frozenTokens, address aggregationIdentity, uint256 aggregateBalance)
    {
        if (account == address(0)) return (0, false, 0, address(0), 0);
        Ctx memory c;
        _context(c, account, account, 0, M_TRANSFER, _hot);
        balance = c.af & M96;
        frozen = c.af & FROZEN != 0;
        frozenTokens = c.frozenFrom;
        if (c.af & AGG != 0) (aggregationIdentity, aggregateBalance) = (c.aggFrom, c.holdFrom);
    }

    /// @inheritdoc IBondTokenCore
    function detectTransferRestriction(address from, address to, uint256 amount) external view returns (uint8 code) {
        uint256 mode = from == address(0) ? M_MINT : to == address(0) ? M_BURN : M_TRANSFER;
        Ctx memory c;
        _context(c, from, to, amount, mode, _hot);
        // As the transfer would see them: units retired at passed record times already burned, and an investor
        // whose whole holding they were no longer counted among the holders.
        uint256 passed = _passedRecordTimes();
        uint256 retiredFrom = from == address(0) ? 0 : (c.af & M96) - _unitsAt(from, c.af, passed);
        uint256 retiredTo = to == address(0) || to == from ? 0 : (c.at & M96) - _unitsAt(to, c.at, passed);
        bool oneInvestor = c.aggFrom != address(0) && c.aggFrom == c.aggTo;
        if (retiredFrom != 0) {
            c.af -= retiredFrom;
            c.holdFrom -= oneInvestor ? retiredFrom + retiredTo : retiredFrom;
            if (c.holdFrom == 0) c.hot -= 1 << S_HOLDERS;
        }
        if (retiredTo != 0) {
            c.at -= retiredTo;
            c.holdTo -= oneInvestor ? retiredFrom + retiredTo : retiredTo;
            if (c.holdTo == 0 && !(oneInvestor && retiredFrom != 0)) c.hot -= 1 << S_HOLDERS;
        }
        (code,) = _evaluate(c);
    }

    /// @inheritdoc IBondTokenCore
    function holderCount() external view returns (uint256) {
        return (_hot >> S_HOLDERS) & M24;
    }

    // ---------------------------------------------------------------- ERC-7092 views (immutable clone args)

    // ================================================================ admin / token information

    /// @inheritdoc IERC3643
    function setName(string calldata newName) external {
        _only(R_ADMIN);
        _nameOverride = newName;
        _emitTokenInfo();
    }

    /// @inheritdoc IERC3643
    function setSymbol(string calldata newSymbol) external {
        _only(R_ADMIN);
        _symbolOverride = newSymbol;
        _emitTokenInfo();
    }

    /// @inheritdoc IERC3643
    function setOnchainID(address newOnchainID) external {
        _only(R_ADMIN);
        _onchainID = newOnchainID;
        _emitTokenInfo();
    }

    function _emitTokenInfo() private {
        emit UpdatedTokenInformation(name(), symbol(), decimals(), version(), _onchainID);
    }

    /// @notice Sets the identity registry (admin). Wallet aggregation state recorded under the previous registry
    ///         is kept; the series folds each multi-wallet investor of the new registry again at its next touch.
    ///         Bind this token in the new registry.
    /// @dev A series with payment code keeps the registry it was deployed with: its payments verify holders
    ///      and read their tax classes there (an immutable arg), so transfers must not move to another one.
    function setIdentityRegistry(address registry) external {
        _only(R_ADMIN);
        if (registry == address(0)) revert ZeroAddress();
        uint256 hot = _hot;
        if (hot & F_PAYMENTS != 0 && registry != _registry(hot)) revert RegistryFixedByPayments(_registry(hot));
        _cfg = uint160(registry);
        _hot |= F_REGISTRY;
        emit IdentityRegistryAdded(registry);
    }

    /// @notice Compliance is evaluated inside the token: only address(this) is accepted (admin).
    function setCompliance(address compliance_) external {
        _only(R_ADMIN);
        if (compliance_ != address(this)) revert UnsupportedCompliance(compliance_);
        emit ComplianceAdded(compliance_);
    }

    /// @inheritdoc IERC173
    function transferOwnership(address newOwner) external {
        address old = _owner;
        if (msg.sender != old || _roleBits[msg.sender] & R_ADMIN == 0) revert MissingRole(msg.sender, R_ADMIN);
        if (newOwner == address(0)) revert ZeroAddress();
        _owner = newOwner;
        _grantBits(newOwner, R_ADMIN);
        _revokeBits(old, R_ADMIN);
        emit OwnershipTransferred(old, newOwner);
    }

    // ---------------------------------------------------------------- agents and roles

    /// @notice Grants the ERC-3643 umbrella: TRANSFER_AGENT + FREEZER + MINTER (admin).
    function addAgent(address agent) external {
        _only(R_ADMIN);
        if (agent == address(0)) revert ZeroAddress();
        _grantBits(agent, R_AGENT);
        emit AgentAdded(agent);
    }

    /// @notice Revokes TRANSFER_AGENT, FREEZER and MINTER (admin).
    function removeAgent(address agent) external {
        _only(R_ADMIN);
        _revokeBits(agent, R_AGENT);
        emit AgentRemoved(agent);
    }

    /// @notice True when `agent` holds all three agent roles.
    function isAgent(address agent) external view returns (bool) {
        return _roleBits[agent] & R_AGENT == R_AGENT;
    }

    /// @inheritdoc IAccessControl
    function hasRole(bytes32 role, address account) external view returns (bool) {
        uint256 bit = _roleBit(role);
        return bit != 0 && _roleBits[account] & bit != 0;
    }

    /// @inheritdoc IAccessControl
    function getRoleAdmin(bytes32) external pure returns (bytes32) {
        return bytes32(0);
    }

    /// @inheritdoc IAccessControl
    function grantRole(bytes32 role, address account) external {
        _only(R_ADMIN);
        uint256 bit = _roleBit(role);
        if (bit == 0) revert UnknownRole(role);
        _grantBits(account, bit);
    }

    /// @inheritdoc IAccessControl
    function revokeRole(bytes32 role, address account) external {
        _only(R_ADMIN);
        uint256 bit = _roleBit(role);
        if (bit == 0) revert UnknownRole(role);
        _revokeBits(account, bit);
    }

    /// @inheritdoc IAccessControl
    function renounceRole(bytes32 role, address callerConfirmation) external {
        if (callerConfirmation != msg.sender) revert AccessControlBadConfirmation();
        _revokeBits(msg.sender, _roleBit(role));
    }

    function _roleBit(bytes32 role) private pure returns (uint256) {
        if (role == bytes32(0)) return R_ADMIN;
        if (role == TRANSFER_AGENT_ROLE) return R_TRANSFER_AGENT;
        if (role == FREEZER_ROLE) return R_FREEZER;
        if (role == MINTER_ROLE) return R_MINTER;
        if (role == DOCUMENT_ROLE) return R_DOCUMENT;
        if (role == COMPLIANCE_ROLE) return R_COMPLIANCE;
        if (role == PAYER_ROLE) return R_PAYER;
        return 0;
    }

    function _roleId(uint256 bit) private pure returns (bytes32) {
        if (bit == R_TRANSFER_AGENT) return TRANSFER_AGENT_ROLE;
        if (bit == R_FREEZER) return FREEZER_ROLE;
        if (bit == R_MINTER) return MINTER_ROLE;
        if (bit == R_DOCUMENT) return DOCUMENT_ROLE;
        if (bit == R_COMPLIANCE) return COMPLIANCE_ROLE;
        if (bit == R_PAYER) return PAYER_ROLE;
        return bytes32(0);
    }

    function _grantBits(address account, uint256 bits) private {
        if (account == address(0)) return;
        uint256 cur = _roleBits[account];
        uint256 added = bits & ~cur;
        if (added == 0) return;
        _roleBits[account] = cur | added;
        for (uint256 b = 1; b <= R_PAYER; b <<= 1) {
            if (added & b != 0) emit RoleGranted(_roleId(b), account, msg.sender);
        }
    }

    function _revokeBits(address account, uint256 bits) private {
        uint256 cur = _roleBits[account];
        uint256 removed = bits & cur;
        if (removed == 0) return;
        _roleBits[account] = cur & ~removed;
        for (uint256 b = 1; b <= R_PAYER; b <<= 1) {
            if (removed & b != 0) emit RoleRevoked(_roleId(b), account, msg.sender);
        }
    }

    // ================================================================ ERC-165

    /// @inheritdoc IERC165
    /// @dev IPaymentAgent only for a series with payment code (the payment functions answer at this address).
    function supportsInterface(bytes4 id) external view returns (bool) {
        return id == type(IERC165).interfaceId || id == type(IERC20).interfaceId || id == type(IERC20Metadata).interfaceId
            || id == type(IERC3643).interfaceId || id == type(IAgentRole).interfaceId || id == type(IERC173).interfaceId
            || id == type(IAccessControl).interfaceId || id == type(IBondRecordDates).interfaceId
            || id == type(IERC1643).interfaceId || id == type(IBondCompliance).interfaceId
            || id == type(IBondTerms).interfaceId || (id == (type(IPaymentAgentPayments).interfaceId ^ type(IPaymentAgentAdmin).interfaceId) && _hot & F_PAYMENTS != 0);
    }
}
