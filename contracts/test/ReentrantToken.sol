// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice An ERC-20 whose `transfer` and `transferFrom` first call `callee` with a stored payload
/// (e.g. back into the adjudicator that is moving the token), record whether that call succeeded,
/// and then move the tokens as usual.
contract ReentrantToken is ERC20 {
    /// @notice Contract the token calls back into.
    address public callee;
    /// @notice Calldata of the callback; empty means none.
    bytes public payload;
    /// @notice Number of callbacks made.
    uint32 public reentries;
    /// @notice Selector of the last failed callback's revert, zero if the last one succeeded.
    bytes4 public lastError;

    constructor() ERC20("Reentrant Token", "RNT") {}

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Sets the callback made by the next transfers.
    function arm(address callee_, bytes calldata payload_) external {
        callee = callee_;
        payload = payload_;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 value) public override returns (bool) {
        _callBack();
        return super.transfer(to, value);
    }

    /// @inheritdoc ERC20
    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        _callBack();
        return super.transferFrom(from, to, value);
    }

    function _callBack() private {
        bytes memory data = payload;
        if (data.length == 0) return;
        (bool ok, bytes memory ret) = callee.call(data);
        bytes4 selector;
        if (!ok && ret.length >= 4) selector = bytes4(ret);
        else if (!ok) selector = 0xffffffff;
        lastError = selector;
        ++reentries;
    }
}
