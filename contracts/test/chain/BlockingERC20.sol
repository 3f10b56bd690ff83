// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A mintable ERC-20 that refuses transfers to blocked addresses (as stablecoins with a
/// blocklist do), so a pushed token payout to a blocked participant is credited instead.
contract BlockingERC20 is ERC20 {
    error BlockingERC20Blocked(address account);

    mapping(address account => bool) public blocked;

    constructor() ERC20("Blocking Dollar", "BUSD") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBlocked(address account, bool blocked_) external {
        blocked[account] = blocked_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (blocked[to]) revert BlockingERC20Blocked(to);
        super._update(from, to, value);
    }
}
