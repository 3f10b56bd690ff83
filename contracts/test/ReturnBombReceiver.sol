// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {KeyOwned} from "./KeyOwned.sol";

/// @notice A payee contract that answers an ETH transfer with `size` bytes of return data
/// (or revert data when `reverting`), so that a caller that copies return data pays for it.
contract ReturnBombReceiver is KeyOwned {
    /// @notice Bytes of return data produced.
    uint256 public immutable size;
    /// @notice When true the bomb comes as revert data, so the ETH is refused.
    bool public reverting;

    constructor(address owner_, uint256 size_) KeyOwned(owner_) {
        size = size_;
    }

    /// @notice Makes the bomb a revert (true) or a successful return (false).
    function setReverting(bool reverting_) external {
        reverting = reverting_;
    }

    receive() external payable {
        uint256 n = size;
        bool r = reverting;
        assembly ("memory-safe") {
            if r { revert(0, n) }
            return(0, n)
        }
    }
}
