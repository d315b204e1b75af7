// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

import {IBondRecordDates} from "../interfaces/IBondRecordDates.sol";
import {IBondRedemption} from "../interfaces/IBondRedemption.sol";

/// @title MockBondToken
/// @notice Test stand-in for the series token: unrestricted ERC-20 with record-time checkpoints, freeze flags
///         and a payer-only redemption burn, so payment-agent tests control every input.
/// @dev Checkpoints: on every balance change, each passed record time without a checkpoint for the account
///      (and for the supply) stores the pre-change value; reads fall back to the live value.
contract MockBondToken is ERC20, IBondRecordDates, IBondRedemption {
    struct Checkpoint {
        bool set;
        uint248 value;
    }

    address public immutable owner;
    uint256[] private _recordTimes;
    mapping(address account => bool) public isPayer;
    mapping(address account => bool) private _frozen;
    mapping(uint256 time => mapping(address account => Checkpoint)) private _balanceAt;
    mapping(uint256 time => Checkpoint) private _supplyAt;

    /// @notice Thrown when the caller lacks the mock's payer permission.
    error NotPayer(address caller);
    /// @notice Thrown when the caller is not the owner.
    error NotOwner(address caller);

    constructor() ERC20("Mock Bond", "MBOND") {
        owner = msg.sender;
        isPayer[msg.sender] = true;
    }

    /// @notice Grants or revokes the payer permission (record times and redemption), owner only.
    function setPayer(address account, bool allowed) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        isPayer[account] = allowed;
    }

    /// @notice Mints `amount` to `to` (unrestricted test helper).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Mints `amount` to each of `holders` (unrestricted test helper).
    function mintBatch(address[] calldata holders, uint256 amount) external {
        for (uint256 i; i < holders.length; ++i) {
            _mint(holders[i], amount);
        }
    }

    /// @notice Sets the frozen flag of `wallet` (unrestricted test helper).
    function setFrozen(address wallet, bool frozen) external {
        _frozen[wallet] = frozen;
    }

    /// @inheritdoc IBondRedemption
    function isFrozen(address wallet) external view returns (bool) {
        return _frozen[wallet];
    }

    /// @inheritdoc IBondRedemption
    function redeem(address holder, uint256 amount) external {
        if (!isPayer[msg.sender]) revert NotPayer(msg.sender);
        _burn(holder, amount);
    }

    /// @inheritdoc IBondRecordDates
    function recordTimes() external view returns (uint256[] memory) {
        return _recordTimes;
    }

    /// @inheritdoc IBondRecordDates
    function setRecordTimes(uint256[] calldata times) external {
        if (!isPayer[msg.sender]) revert NotPayer(msg.sender);
        for (uint256 i; i < times.length; ++i) {
            if (i != 0 && times[i] <= times[i - 1]) revert InvalidRecordTimes(i, times[i]);
        }
        uint256[] memory old = _recordTimes;
        for (uint256 i; i < old.length; ++i) {
            if (old[i] > block.timestamp) continue;
            bool kept;
            for (uint256 j; j < times.length; ++j) {
                if (times[j] == old[i]) kept = true;
            }
            if (!kept) revert InvalidRecordTimes(i, old[i]);
        }
        _recordTimes = times;
        emit RecordTimesUpdated(old, times);
    }

    /// @inheritdoc IBondRecordDates
    function balanceOfAt(address holder, uint256 time) external view returns (uint256) {
        _checkTime(time);
        Checkpoint memory c = _balanceAt[time][holder];
        return c.set ? c.value : balanceOf(holder);
    }

    /// @inheritdoc IBondRecordDates
    function totalSupplyAt(uint256 time) external view returns (uint256) {
        _checkTime(time);
        Checkpoint memory c = _supplyAt[time];
        return c.set ? c.value : totalSupply();
    }

    function _checkTime(uint256 time) private view {
        bool known;
        for (uint256 i; i < _recordTimes.length; ++i) {
            if (_recordTimes[i] == time) known = true;
        }
        if (!known) revert UnknownRecordTime(time);
        if (time > block.timestamp) revert RecordTimeNotPassed(time, block.timestamp);
    }

    function _update(address from, address to, uint256 value) internal override {
        uint256 n = _recordTimes.length;
        for (uint256 i; i < n; ++i) {
            uint256 time = _recordTimes[i];
            if (time > block.timestamp) break;
            _checkpoint(time, from);
            _checkpoint(time, to);
            if ((from == address(0) || to == address(0)) && !_supplyAt[time].set) {
                _supplyAt[time] = Checkpoint(true, uint248(totalSupply()));
            }
        }
        super._update(from, to, value);
    }

    function _checkpoint(uint256 time, address account) private {
        if (account == address(0) || _balanceAt[time][account].set) return;
        _balanceAt[time][account] = Checkpoint(true, uint248(balanceOf(account)));
    }
}
