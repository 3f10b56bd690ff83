// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Executor} from "../Executor.sol";
import {Reentering} from "./Reentering.sol";

/// @notice A channel payee contract (it signs nothing: v2 signers are keys) whose `receive` calls
/// back with the armed payload and keeps the ETH, or, while `rejecting`, refuses ETH. `execute`
/// makes calls as the payee, e.g. `withdraw` of its credits. The one re-entering payee of the tests.
contract ReentrantPayee is Reentering, Executor {
    /// @notice ETH arrived while rejecting.
    error PayeeRejected();

    /// @notice When true, `receive` reverts.
    bool public rejecting;

    /// @notice Makes `receive` reject (true) or accept (false) ETH.
    function setRejecting(bool rejecting_) external {
        rejecting = rejecting_;
    }

    receive() external payable {
        if (rejecting) revert PayeeRejected();
        _reenter();
    }
}
