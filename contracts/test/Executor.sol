// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Base of the test payees: `execute` makes calls as the contract (a payee withdrawing its
/// credits, say) and bubbles up their revert data unchanged.
abstract contract Executor {
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
}
