// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Payout maths
/// @notice What each side is paid and what stays held back for locks when a channel concludes.
/// The channel holds `total = Σdeposit - Σwithdrawn`. Participant 0's balance,
/// `deposit0 - withdrawn0 + transferred1 - transferred0 - locked0`, clamped to [0, total], is paid
/// first; then each side's locked amount is held back from what is left (0's, then 1's); participant 1
/// gets the rest. For a state honest clients sign this is exactly each side's balance and locked
/// amount; for any other it still adds up to `total`: nothing is created and nothing lost.
library Payouts {
    /// @dev Deposits are below 2^120 and withdrawals below 2^122 (see ChannelRecord), so what
    /// participant 0 gains net (transfers in, less transfers out, less its locks) beyond ±2^128 pays
    /// the same as ±2^128: clamping that one number there keeps the maths in int256 without changing
    /// a payout.
    uint256 internal constant LIMIT = 1 << 128;

    function split(
        uint256 deposit0,
        uint256 deposit1,
        uint256 withdrawn0,
        uint256 withdrawn1,
        uint256[2] calldata transferred,
        uint256[2] calldata locked
    ) internal pure returns (uint256[2] memory payouts, uint256[2] memory held) {
        // Withdrawals never exceed deposits in sum (partialWithdraw checks it).
        uint256 rest = deposit0 + deposit1 - withdrawn0 - withdrawn1;
        int256 balance0 = int256(deposit0) - int256(withdrawn0) + _netIn(transferred[0], transferred[1], locked[0]);
        if (balance0 > 0) payouts[0] = uint256(balance0) < rest ? uint256(balance0) : rest;
        rest -= payouts[0];
        held[0] = locked[0] < rest ? locked[0] : rest;
        rest -= held[0];
        held[1] = locked[1] < rest ? locked[1] : rest;
        payouts[1] = rest - held[1];
    }

    /// @dev transferred1 - transferred0 - locked0 as one number, clamped to ±LIMIT. (Clamping the
    /// terms one by one would let two huge terms cancel and change the payout.)
    function _netIn(uint256 transferred0, uint256 transferred1, uint256 locked0) private pure returns (int256) {
        if (transferred1 >= transferred0) {
            uint256 gain = transferred1 - transferred0;
            if (gain >= locked0) return int256(_cap(gain - locked0));
            return -int256(_cap(locked0 - gain));
        }
        uint256 loss = transferred0 - transferred1;
        unchecked {
            // A sum that wraps is beyond 2^256, so certainly beyond LIMIT.
            uint256 total = loss + locked0;
            return -int256(total < loss ? LIMIT : _cap(total));
        }
    }

    function _cap(uint256 amount) private pure returns (uint256) {
        return amount < LIMIT ? amount : LIMIT;
    }
}
