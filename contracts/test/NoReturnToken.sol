// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice A USDT-style token: `transfer`, `transferFrom` and `approve` return nothing and revert
/// on failure.
contract NoReturnToken {
    /// @notice Not enough balance or allowance.
    error NoReturnTokenInsufficient(address from, uint256 available, uint256 needed);

    /// @notice Token balances.
    mapping(address account => uint256) public balanceOf;
    /// @notice Allowances, owner => spender => amount.
    mapping(address owner => mapping(address spender => uint256)) public allowance;

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        balanceOf[to] += amount;
    }

    /// @notice Sets `spender`'s allowance; returns nothing.
    function approve(address spender, uint256 amount) external {
        allowance[msg.sender][spender] = amount;
    }

    /// @notice Moves `amount` to `to`; returns nothing.
    function transfer(address to, uint256 amount) external {
        _move(msg.sender, to, amount);
    }

    /// @notice Moves `amount` from `from` to `to` against the caller's allowance; returns nothing.
    function transferFrom(address from, address to, uint256 amount) external {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed < amount) revert NoReturnTokenInsufficient(from, allowed, amount);
        allowance[from][msg.sender] = allowed - amount;
        _move(from, to, amount);
    }

    function _move(address from, address to, uint256 amount) private {
        uint256 balance = balanceOf[from];
        if (balance < amount) revert NoReturnTokenInsufficient(from, balance, amount);
        balanceOf[from] = balance - amount;
        balanceOf[to] += amount;
    }
}
