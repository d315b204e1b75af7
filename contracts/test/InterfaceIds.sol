// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IERC3643, IAgentRole, IERC173, IIdentityRegistry} from "../interfaces/IERC3643.sol";
import {IBondRecordDates} from "../interfaces/IBondRecordDates.sol";
import {IERC1643} from "../interfaces/IERC1643.sol";
import {IBondCompliance, IBondTerms} from "../interfaces/IBondToken.sol";
import {IPaymentAgentAdmin, IPaymentAgentPayments} from "../interfaces/IPaymentAgent.sol";
import {IInvestorRecords} from "../interfaces/IInvestorRecords.sol";
import {IInvestorRegistry} from "../interfaces/IInvestorRegistry.sol";

/// @title InterfaceIds
/// @notice Test helper: the ERC-165 ids the compiler computes for the interfaces a series and the registry
///         answer, so a test can hold docs/integration.md's table to them.
contract InterfaceIds {
    /// @notice (name, id) of every interface a series answers (IPaymentAgent once its payment code is attached).
    function seriesIds() external pure returns (string[] memory names, bytes4[] memory ids) {
        names = new string[](12);
        ids = new bytes4[](12);
        (names[0], ids[0]) = ("IERC165", type(IERC165).interfaceId);
        (names[1], ids[1]) = ("IERC20", type(IERC20).interfaceId);
        (names[2], ids[2]) = ("IERC20Metadata", type(IERC20Metadata).interfaceId);
        (names[3], ids[3]) = ("IERC3643", type(IERC3643).interfaceId);
        (names[4], ids[4]) = ("IAgentRole", type(IAgentRole).interfaceId);
        (names[5], ids[5]) = ("IERC173", type(IERC173).interfaceId);
        (names[6], ids[6]) = ("IAccessControl", type(IAccessControl).interfaceId);
        (names[7], ids[7]) = ("IBondRecordDates", type(IBondRecordDates).interfaceId);
        (names[8], ids[8]) = ("IERC1643", type(IERC1643).interfaceId);
        (names[9], ids[9]) = ("IBondCompliance", type(IBondCompliance).interfaceId);
        (names[10], ids[10]) = ("IBondTerms", type(IBondTerms).interfaceId);
        (names[11], ids[11]) =
            ("IPaymentAgent", type(IPaymentAgentPayments).interfaceId ^ type(IPaymentAgentAdmin).interfaceId);
    }

    /// @notice (name, id) of every interface the investor registry answers.
    function registryIds() external pure returns (string[] memory names, bytes4[] memory ids) {
        names = new string[](5);
        ids = new bytes4[](5);
        (names[0], ids[0]) = ("IERC165", type(IERC165).interfaceId);
        (names[1], ids[1]) = ("IAccessControl", type(IAccessControl).interfaceId);
        (names[2], ids[2]) = ("IIdentityRegistry", type(IIdentityRegistry).interfaceId);
        (names[3], ids[3]) = ("IInvestorRecords", type(IInvestorRecords).interfaceId);
        (names[4], ids[4]) = (
            "IInvestorRegistry",
            type(IInvestorRegistry).interfaceId ^ type(IIdentityRegistry).interfaceId
                ^ type(IInvestorRecords).interfaceId
        );
    }
}
