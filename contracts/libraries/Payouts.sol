// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Payout maths
/// @notice payout[i] = deposit[i] + transferred[1-i] - transferred[i], clamped to
/// [0, deposit[0] + deposit[1]], so the two payouts always add up to the deposits.
library Payouts {
    /// @dev Deposits are below 2^120 each (see ChannelRecord), so a net transfer beyond ±2^128
    /// pays the same as ±2^128: clamping there keeps the maths in int256 without changing a payout.
    int256 internal constant NET_LIMIT = int256(1 << 128);

    /// @notice What participant 0 gains from participant 1: transferred[1] - transferred[0], clamped.
    function net(uint256[2] calldata transferred) internal pure returns (int256) {
        uint256 t0 = transferred[0];
        uint256 t1 = transferred[1];
        if (t1 >= t0) {
            uint256 gain = t1 - t0;
            return gain >= uint256(NET_LIMIT) ? NET_LIMIT : int256(gain);
        }
        uint256 loss = t0 - t1;
        return loss >= uint256(NET_LIMIT) ? -NET_LIMIT : -int256(loss);
    }

    /// @notice Splits the deposits by the net transfer to participant 0.
    function split(uint256 deposit0, uint256 deposit1, int256 net0)
        internal
        pure
        returns (uint256 payout0, uint256 payout1)
    {
        uint256 total = deposit0 + deposit1;
        // deposit0 < 2^120 and |net0| <= 2^128: the sum fits an int256.
        int256 allocation0 = int256(deposit0) + net0;
        if (allocation0 <= 0) payout0 = 0;
        else if (uint256(allocation0) >= total) payout0 = total;
        else payout0 = uint256(allocation0);
        payout1 = total - payout0;
    }
}
