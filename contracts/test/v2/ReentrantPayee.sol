// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Reentering} from "./Reentering.sol";

/// @notice A channel payee contract (it signs nothing: v2 signers are keys) whose `receive` calls
/// back with the armed payload and keeps the ETH, or, while `rejecting`, refuses ETH. `execute`
/// makes calls as the payee, e.g. `withdraw` of its credits.
contract ReentrantPayee is Reentering {
    /// @notice ETH arrived while rejecting.
    error PayeeRejected();

    /// @notice When true, `receive` reverts.
    bool public rejecting;

    /// @notice Makes `receive` reject (true) or accept (false) ETH.
    function setRejecting(bool rejecting_) external {
        rejecting = rejecting_;
    }

    /// @notice Calls `to` with `data` as this contract; a revert comes back with the callee's data.
    function execute(address to, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        if (rejecting) revert PayeeRejected();
        _reenter();
    }
}
