// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice An ERC-20 that refuses transfers to blocked addresses (as USDC and USDT do for
/// blacklisted ones), either by reverting or, in `returnFalse` mode, by returning false.
contract BlockingToken is ERC20 {
    /// @notice A transfer to a blocked address.
    error BlockingTokenBlocked(address to);

    /// @notice Addresses that can't receive the token.
    mapping(address account => bool) public blocked;
    /// @notice When true a blocked transfer returns false instead of reverting.
    bool public returnFalse;

    constructor() ERC20("Blocking Token", "BLK") {}

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Blocks or unblocks `account`.
    function setBlocked(address account, bool isBlocked) external {
        blocked[account] = isBlocked;
    }

    /// @notice Chooses between reverting (false) and returning false (true) on a blocked transfer.
    function setReturnFalse(bool returnFalse_) external {
        returnFalse = returnFalse_;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        if (blocked[to]) {
            if (returnFalse) return false;
            revert BlockingTokenBlocked(to);
        }
        return super.transfer(to, value);
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (blocked[to]) {
            if (returnFalse) return false;
            revert BlockingTokenBlocked(to);
        }
        return super.transferFrom(from, to, value);
    }
}
