// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAdjudicator} from "../../interfaces/IAdjudicator.sol";

/// @notice Reads everything the fuzzer's invariants need in one call (fuzzing only).
contract FuzzInspector {
    uint256 public constant FIELDS = 9;

    /// @param assets address(0) for ETH, else tokens.
    /// @return held The adjudicator's balance of each asset.
    /// @return channels Per channel (FIELDS words): mode, version, deadline, deposit0, deposit1,
    /// withdrawn0, withdrawn1, heldBack0, heldBack1.
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
        channels = new uint256[](ids.length * FIELDS);
        for (uint256 c = 0; c < ids.length; ++c) {
            _channel(adjudicator, ids[c], channels, c * FIELDS);
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

    function _channel(IAdjudicator adjudicator, bytes32 id, uint256[] memory out, uint256 at) private view {
        (uint8 mode, uint64 version, uint64 deadline, uint256[2] memory deposits, uint256[2] memory withdrawn) =
            adjudicator.channel(id);
        uint256[2] memory held = adjudicator.heldBack(id);
        out[at] = mode;
        out[at + 1] = version;
        out[at + 2] = deadline;
        out[at + 3] = deposits[0];
        out[at + 4] = deposits[1];
        out[at + 5] = withdrawn[0];
        out[at + 6] = withdrawn[1];
        out[at + 7] = held[0];
        out[at + 8] = held[1];
    }

    function _balanceOf(address asset, address account) private view returns (uint256) {
        return asset == address(0) ? account.balance : IERC20(asset).balanceOf(account);
    }
}
