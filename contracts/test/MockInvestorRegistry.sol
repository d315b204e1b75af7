// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IInvestorRecords} from "../interfaces/IInvestorRecords.sol";

/// @title MockInvestorRegistry
/// @notice Test stand-in for the investor registry with freely settable records.
contract MockInvestorRegistry is IInvestorRecords {
    mapping(address wallet => InvestorRecord) private _records;

    /// @notice Sets the record of `wallet` (unrestricted test helper).
    function setRecord(address wallet, InvestorRecord calldata record) external {
        _records[wallet] = record;
    }

    /// @notice Sets the same record on each of `wallets`, except the identity, which is the wallet itself.
    function setRecords(address[] calldata wallets, InvestorRecord calldata record) external {
        InvestorRecord memory r = record;
        for (uint256 i; i < wallets.length; ++i) {
            r.identity = wallets[i];
            _records[wallets[i]] = r;
        }
    }

    /// @inheritdoc IInvestorRecords
    function investorRecord(address wallet) external view returns (InvestorRecord memory) {
        return _records[wallet];
    }

    /// @inheritdoc IInvestorRecords
    function isVerified(address wallet) external view returns (bool) {
        InvestorRecord storage r = _records[wallet];
        return r.identity != address(0) && block.timestamp <= r.kycExpiry;
    }
}
