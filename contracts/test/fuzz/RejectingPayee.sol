// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @notice A channel payee that is a contract (fuzzing only): it refuses ETH unless `accepting`,
/// so pushed ETH payouts to it take the credit path and its `withdraw` fails until it accepts.
/// Its owner drives the adjudicator through `exec` (to dispute as a payee, withdraw its credits).
contract RejectingPayee {
    error RejectingPayeeNotOwner(address caller);
    error RejectingPayeeRefusesEther(uint256 amount);

    address public immutable owner;
    bool public accepting;

    constructor(address owner_) {
        owner = owner_;
    }

    receive() external payable {
        if (!accepting) revert RejectingPayeeRefusesEther(msg.value);
    }

    function setAccepting(bool accepting_) external {
        if (msg.sender != owner) revert RejectingPayeeNotOwner(msg.sender);
        accepting = accepting_;
    }

    /// @notice Calls `target` with `data` as this contract; a revert bubbles up unchanged.
    function exec(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert RejectingPayeeNotOwner(msg.sender);
        return Address.functionCall(target, data);
    }
}
