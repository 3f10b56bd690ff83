// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {KeyOwned} from "./KeyOwned.sol";

/// @notice A payee contract that rejects ETH while `rejecting` is set (the default); it can
/// withdraw its credits with `execute`.
contract RevertingReceiver is KeyOwned {
    /// @notice ETH arrived while rejecting.
    error ReceiverRejected();

    /// @notice When true, `receive` reverts.
    bool public rejecting = true;

    constructor(address owner_) KeyOwned(owner_) {}

    /// @notice Makes `receive` reject (true) or accept (false) ETH.
    function setRejecting(bool rejecting_) external {
        rejecting = rejecting_;
    }

    receive() external payable {
        if (rejecting) revert ReceiverRejected();
    }
}
