// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAdjudicator} from "../../interfaces/IAdjudicator.sol";

/// @notice Reads everything the fuzzer's invariants need in one call (fuzzing only).
contract FuzzInspector {
    /// @param assets address(0) for ETH, else tokens.
    /// @return held The adjudicator's balance of each asset.
    /// @return channels Per channel: mode, version, deadline, deposit0, deposit1.
    /// @return credits Per actor, per asset: `credits(actor, asset)`.
    /// @return balances Per actor, per asset: the actor's own balance.
    /// @return timestamp The block timestamp the call ran at.
    function snapshot(IAdjudicator adjudicator, address[] calldata assets, bytes32[] calldata ids, address[] calldata actors)
        external
        view
        returns (
            uint256[] memory held,
            uint256[] memory channels,
            uint256[] memory credits,
            uint256[] memory balances,
            uint256 timestamp
        )
    {
        held = new uint256[](assets.length);
        for (uint256 a = 0; a < assets.length; ++a) {
            held[a] = _balanceOf(assets[a], address(adjudicator));
        }
        channels = new uint256[](ids.length * 5);
        for (uint256 c = 0; c < ids.length; ++c) {
            (uint8 mode, uint64 version, uint64 deadline, uint256[2] memory deposits) = adjudicator.channel(ids[c]);
            channels[c * 5] = mode;
            channels[c * 5 + 1] = version;
            channels[c * 5 + 2] = deadline;
            channels[c * 5 + 3] = deposits[0];
            channels[c * 5 + 4] = deposits[1];
        }
        credits = new uint256[](actors.length * assets.length);
        balances = new uint256[](actors.length * assets.length);
        for (uint256 i = 0; i < actors.length; ++i) {
            for (uint256 a = 0; a < assets.length; ++a) {
                credits[i * assets.length + a] = adjudicator.credits(actors[i], assets[a]);
                balances[i * assets.length + a] = _balanceOf(assets[a], actors[i]);
            }
        }
        timestamp = block.timestamp;
    }

    function _balanceOf(address asset, address account) private view returns (uint256) {
        return asset == address(0) ? account.balance : IERC20(asset).balanceOf(account);
    }
}
