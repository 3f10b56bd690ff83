// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MockERC20} from "../MockERC20.sol";

/// @notice MockERC20 that refuses transfers to blocked addresses (fuzzing only), like a
/// stablecoin's blocklist, so pushed token payouts take the credit path and `withdrawTo` is needed.
contract BlocklistERC20 is MockERC20 {
    error BlocklistERC20Blocked(address to);

    mapping(address account => bool) public blocked;

    constructor(string memory name, string memory symbol, uint8 decimals_) MockERC20(name, symbol, decimals_) {}

    function setBlocked(address account, bool isBlocked) external {
        blocked[account] = isBlocked;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocked[to]) revert BlocklistERC20Blocked(to);
        super._update(from, to, value);
    }
}
