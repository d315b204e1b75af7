// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

import {IPaymentAgentInit} from "../interfaces/IPaymentAgentInit.sol";

/// @title MockAgentFactory
/// @notice Stand-in for the BondFactory's payment-agent step: clones an implementation and initializes it in
///         one transaction, as the real factory does.
contract MockAgentFactory {
    /// @notice Emitted with the new clone.
    event AgentCloned(address indexed implementation, address agent);

    /// @notice Clones `implementation` and calls `initialize(token, registry, admin, params)` on the clone.
    function deploy(address implementation, address token, address registry, address admin, bytes calldata params)
        external
        returns (address agent)
    {
        agent = Clones.clone(implementation);
        emit AgentCloned(implementation, agent);
        IPaymentAgentInit(agent).initialize(token, registry, admin, params);
    }
}
