// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {KeyOwned} from "./KeyOwned.sol";

/// @notice A payee contract whose `receive` burns gas: all it is given when `toBurn` is
/// zero, else about `toBurn` before it accepts the ETH.
contract GasBurner is KeyOwned {
    /// @notice Gas to burn per receipt; zero burns everything (the call then runs out of gas).
    uint256 public immutable toBurn;

    constructor(address owner_, uint256 toBurn_) KeyOwned(owner_) {
        toBurn = toBurn_;
    }

    receive() external payable {
        uint256 start = gasleft();
        uint256 limit = toBurn == 0 ? type(uint256).max : toBurn;
        // Spins until `limit` gas is gone, or until the call runs out of gas.
        while (start - gasleft() < limit) {}
    }
}
