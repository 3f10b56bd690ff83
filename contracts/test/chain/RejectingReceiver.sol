// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A channel participant that refuses ETH until told otherwise, so a pushed payout to it
/// is credited; it can then call the adjudicator itself (e.g. `withdraw`) through `execute`.
contract RejectingReceiver {
    error RejectingReceiverRefused(uint256 value);
    error RejectingReceiverCallFailed(bytes returnData);

    bool public accepting;

    function setAccepting(bool accepting_) external {
        accepting = accepting_;
    }

    /// @notice Calls `target` with `data` as this contract (test helper; anyone may call it).
    function execute(address target, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory returnData) = target.call(data);
        if (!ok) revert RejectingReceiverCallFailed(returnData);
        return returnData;
    }

    receive() external payable {
        if (!accepting) revert RejectingReceiverRefused(msg.value);
    }
}
