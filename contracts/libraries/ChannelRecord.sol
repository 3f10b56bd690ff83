// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Packed storage words of a channel
/// @notice A channel uses at most three storage slots, so that each operation writes as few as
/// possible:
/// - `funds`: written by every deposit. Open: deposit0 in bits 0-119, deposit1 in bits 120-239.
///   Concluded: CONCLUDED flag (bit 255), version in bits 160-223, fingerprint in bits 0-159.
/// - `challenge`: zero unless a challenge runs. Fingerprint of the registered state in bits
///   96-255, its version in bits 32-95, the deadline in bits 0-31 (never zero while set).
/// - `net`: the registered state's net transfer to participant 0; left zero when it is zero.
/// The mode is derived from these words, never stored twice.
library ChannelRecord {
    uint256 internal constant CONCLUDED = 1 << 255;
    uint256 internal constant MAX_DEPOSIT = type(uint120).max;
    uint256 private constant DEPOSIT_MASK = type(uint120).max;

    function isConcluded(uint256 funds) internal pure returns (bool) {
        return funds & CONCLUDED != 0;
    }

    function deposits(uint256 funds) internal pure returns (uint256 deposit0, uint256 deposit1) {
        deposit0 = funds & DEPOSIT_MASK;
        deposit1 = (funds >> 120) & DEPOSIT_MASK;
    }

    function depositOf(uint256 funds, uint8 participant) internal pure returns (uint256) {
        return (funds >> (120 * uint256(participant))) & DEPOSIT_MASK;
    }

    /// @dev `deposit` must be at most MAX_DEPOSIT.
    function withDeposit(uint256 funds, uint8 participant, uint256 deposit) internal pure returns (uint256) {
        uint256 shift = 120 * uint256(participant);
        return (funds & ~(DEPOSIT_MASK << shift)) | (deposit << shift);
    }

    function concluded(uint64 version, uint160 fingerprint) internal pure returns (uint256) {
        return CONCLUDED | (uint256(version) << 160) | uint256(fingerprint);
    }

    function concludedVersion(uint256 funds) internal pure returns (uint64) {
        return uint64(funds >> 160);
    }

    function challenge(uint160 fingerprint, uint64 version, uint32 deadline) internal pure returns (uint256) {
        return (uint256(fingerprint) << 96) | (uint256(version) << 32) | uint256(deadline);
    }

    function unpackChallenge(uint256 word)
        internal
        pure
        returns (uint160 fingerprint, uint64 version, uint32 deadline)
    {
        fingerprint = uint160(word >> 96);
        version = uint64(word >> 32);
        deadline = uint32(word);
    }

    /// @dev The fingerprint of a state: the low 160 bits of its EIP-712 struct hash.
    function fingerprintOf(bytes32 structHash) internal pure returns (uint160) {
        return uint160(uint256(structHash));
    }
}
