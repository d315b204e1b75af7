// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IPaymentAgentInit} from "../interfaces/IPaymentAgentInit.sol";

/// @title MockPaymentAgent
/// @notice Test stand-in for the payment agent: records what the factory passed to initialize.
contract MockPaymentAgent is IPaymentAgentInit, Initializable {
    address public token;
    address public registry;
    address public admin;
    bytes public params;

    constructor() {
        _disableInitializers();
    }

    /// @inheritdoc IPaymentAgentInit
    function initialize(address token_, address registry_, address admin_, bytes calldata params_) external initializer {
        token = token_;
        registry = registry_;
        admin = admin_;
        params = params_;
    }
}
