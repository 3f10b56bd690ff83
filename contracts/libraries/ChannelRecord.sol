// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Packed storage words of a channel
/// @notice A channel uses up to four storage words, so that each operation writes as few as possible:
/// - `funds`: written by every deposit. Open: deposit0 in bits 0-119, deposit1 in bits 120-239,
///   WITHDRAWN (bit 254) once a partial withdrawal happened, so that paying out reads `withdrawn`
///   only then, and CHALLENGED (bit 253) while a challenge runs, so that a close or a withdrawal reads
///   `challenge` only then. Concluded: CONCLUDED (bit 255) and the low 255 bits of the concluded state's
///   EIP-712 struct hash. (A full 256-bit hash and a mark that tells it from the deposits can't share
///   one word; a second word would cost every cooperative close a fresh slot, 20,000 gas. A birthday
///   search on 255 bits takes 2^127.5 hashes, the 128-bit level of the signatures themselves.)
/// - `withdrawn`: cumulative partial withdrawals, participant 0 in bits 0-127, 1 in bits 128-255.
/// - `registered`: while a challenge runs, the full EIP-712 struct hash of the registered state;
///   once concluded, the amounts held back for locks (participant 0 in bits 0-127, 1 in 128-255).
/// - `challenge`: zero unless a challenge runs; then its version (bits 0-63) and deadline (64-127).
/// The mode is derived from these words, never stored twice.
library ChannelRecord {
    uint256 internal constant MAX_DEPOSIT = type(uint120).max;
    uint256 private constant CONCLUDED = 1 << 255;
    uint256 private constant WITHDRAWN = 1 << 254;
    uint256 private constant CHALLENGED = 1 << 253;
    uint256 private constant DEPOSIT_MASK = type(uint120).max;
    uint256 private constant HALF_MASK = type(uint128).max;

    // ------------------------------------------------------------ funds

    function isConcluded(uint256 funds) internal pure returns (bool) {
        return funds & CONCLUDED != 0;
    }

    function hasWithdrawn(uint256 funds) internal pure returns (bool) {
        return funds & WITHDRAWN != 0;
    }

    function withWithdrawn(uint256 funds) internal pure returns (uint256) {
        return funds | WITHDRAWN;
    }

    function isChallenged(uint256 funds) internal pure returns (bool) {
        return funds & CHALLENGED != 0;
    }

    function withChallenged(uint256 funds) internal pure returns (uint256) {
        return funds | CHALLENGED;
    }

    /// @dev `participant` must be 0 or 1.
    function depositOf(uint256 funds, uint8 participant) internal pure returns (uint256) {
        return (funds >> _shift(participant)) & DEPOSIT_MASK;
    }

    function deposits(uint256 funds) internal pure returns (uint256 deposit0, uint256 deposit1) {
        deposit0 = funds & DEPOSIT_MASK;
        deposit1 = (funds >> 120) & DEPOSIT_MASK;
    }

    /// @dev `deposit` must be at most MAX_DEPOSIT and `participant` 0 or 1.
    function withDeposit(uint256 funds, uint8 participant, uint256 deposit) internal pure returns (uint256) {
        uint256 shift = _shift(participant);
        return (funds & ~(DEPOSIT_MASK << shift)) | (deposit << shift);
    }

    function _shift(uint8 participant) private pure returns (uint256) {
        return participant == 0 ? 0 : 120;
    }

    /// @dev The concluded record of a state with this struct hash.
    function concluded(bytes32 structHash) internal pure returns (uint256) {
        return CONCLUDED | uint256(structHash);
    }

    /// @dev True iff `funds` is the concluded record of a state with this struct hash.
    function concludedWith(uint256 funds, bytes32 structHash) internal pure returns (bool) {
        return funds == (CONCLUDED | uint256(structHash));
    }

    // ------------------------------------------------------------ pairs (withdrawn, held back)

    function pair(uint256 word) internal pure returns (uint256 first, uint256 second) {
        first = word & HALF_MASK;
        second = word >> 128;
    }

    /// @dev Both values must be below 2^128.
    function packPair(uint256 first, uint256 second) internal pure returns (uint256) {
        return first | (second << 128);
    }

    // ------------------------------------------------------------ challenge

    function packChallenge(uint64 version, uint64 deadline) internal pure returns (uint256) {
        return uint256(version) | (uint256(deadline) << 64);
    }

    function unpackChallenge(uint256 word) internal pure returns (uint64 version, uint64 deadline) {
        version = uint64(word);
        deadline = uint64(word >> 64);
    }
}
