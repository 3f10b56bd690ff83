// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAdjudicator} from "../../interfaces/IAdjudicator.sol";

/// @notice Reads everything the fuzzer's invariants need in one call (fuzzing only).
contract FuzzInspector {
    uint256 public constant FIELDS = 9;

    /// @notice What `snapshot` reads: the assets (address(0) for ETH, else tokens), channel ids,
    /// actors, hashlocks and lock leaves to report on.
    struct Query {
        address[] assets;
        bytes32[] ids;
        address[] actors;
        bytes32[] hashlocks;
        bytes32[] leaves;
    }

    /// @notice The adjudicator's records as seen at one block.
    /// @param held The adjudicator's balance of each asset.
    /// @param channels Per channel (FIELDS words): mode, version, deadline, deposit0, deposit1,
    /// withdrawn0, withdrawn1, heldBack0, heldBack1.
    /// @param credits Per actor, per asset: `credits(actor, asset)`.
    /// @param balances Per actor, per asset: the actor's own balance.
    /// @param revealedAt Per hashlock: `secretRevealedAt(hashlock)`.
    /// @param resolved Per leaf: `lockResolved(leaf)`.
    /// @param timestamp The block timestamp the call ran at.
    struct Snapshot {
        uint256[] held;
        uint256[] channels;
        uint256[] credits;
        uint256[] balances;
        uint256[] revealedAt;
        bool[] resolved;
        uint256 timestamp;
    }

    function snapshot(IAdjudicator adjudicator, Query calldata q) external view returns (Snapshot memory s) {
        uint256 nAssets = q.assets.length;
        s.held = new uint256[](nAssets);
        for (uint256 a = 0; a < nAssets; ++a) {
            s.held[a] = _balanceOf(q.assets[a], address(adjudicator));
        }
        s.channels = new uint256[](q.ids.length * FIELDS);
        for (uint256 c = 0; c < q.ids.length; ++c) {
            _channel(adjudicator, q.ids[c], s.channels, c * FIELDS);
        }
        s.credits = new uint256[](q.actors.length * nAssets);
        s.balances = new uint256[](q.actors.length * nAssets);
        for (uint256 i = 0; i < q.actors.length; ++i) {
            for (uint256 a = 0; a < nAssets; ++a) {
                s.credits[i * nAssets + a] = adjudicator.credits(q.actors[i], q.assets[a]);
                s.balances[i * nAssets + a] = _balanceOf(q.assets[a], q.actors[i]);
            }
        }
        s.revealedAt = new uint256[](q.hashlocks.length);
        for (uint256 h = 0; h < q.hashlocks.length; ++h) {
            s.revealedAt[h] = adjudicator.secretRevealedAt(q.hashlocks[h]);
        }
        s.resolved = new bool[](q.leaves.length);
        for (uint256 k = 0; k < q.leaves.length; ++k) {
            s.resolved[k] = adjudicator.lockResolved(q.leaves[k]);
        }
        s.timestamp = block.timestamp;
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
