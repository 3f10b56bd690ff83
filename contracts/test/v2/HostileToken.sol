// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Reentering} from "./Reentering.sol";

/// @notice An ERC-20 whose `transfer` first calls back with the armed payload (e.g. into the
/// adjudicator that is paying out a lock), records how that ended, then moves the tokens as usual.
contract HostileToken is ERC20, Reentering {
    constructor() ERC20("Hostile Token", "HST") {}

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 amount) public override returns (bool) {
        _reenter();
        return super.transfer(to, amount);
    }
}
