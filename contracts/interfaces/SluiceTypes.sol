// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The fixed part of a channel: never changes, and its hash is the channel id.
/// @param participants The keys that sign participant i's states and withdrawals (ECDSA only).
/// @param payees Where participant i's payouts, credits and withdrawals go; any address, a
/// contract wallet included. `payees[i] == participants[i]` is the plain case.
/// @param asset The channel's single asset: address(0) for ETH, else an ERC-20 token.
/// @param challengePeriod Seconds a registered state can be refuted before it settles.
/// @param nonce Distinguishes channels between the same participants and asset.
struct Params {
    address[2] participants;
    address[2] payees;
    address asset;
    uint64 challengePeriod;
    uint64 nonce;
}

/// @notice The variable part of a channel, signed by both participants.
/// @param channelId keccak256(abi.encode(params)) of the channel this state belongs to.
/// @param version Strictly increasing with every new state.
/// @param transferred Cumulative amount participant i has paid to the other since opening.
/// @param locked Sum of participant i's pending hashlocked transfers.
/// @param locksRoot Merkle root of the pending locks of both sides; zero when there are none.
/// @param paymentsRoot Merkle root of every payment made in the channel so far.
/// @param isFinal True for the closing state; a final state has no locks.
struct State {
    bytes32 channelId;
    uint64 version;
    uint256[2] transferred;
    uint256[2] locked;
    bytes32 locksRoot;
    bytes32 paymentsRoot;
    bool isFinal;
}

/// @notice One off-chain payment, a leaf of a state's `paymentsRoot`.
/// @param channelId The channel the payment was made in.
/// @param seq Position of the payment in the channel's log, from 0.
/// @param payer Index (0 or 1) of the participant who paid.
/// @param amount Amount paid, in the channel asset's base units.
/// @param ref 32-byte reference, e.g. the hash of an order number.
struct Payment {
    bytes32 channelId;
    uint64 seq;
    uint8 payer;
    uint256 amount;
    bytes32 ref;
}

/// @notice A hashlocked transfer pending in a state, a leaf of its `locksRoot`.
/// @param channelId The channel the lock is in.
/// @param sender Index (0 or 1) of the participant who pays if the secret is revealed in time.
/// @param amount Amount locked, in the channel asset's base units.
/// @param hashlock sha256 of the 32-byte secret.
/// @param expiry Block timestamp after which, with the secret not revealed, the lock returns to its sender.
/// @param ref 32-byte reference of the transfer.
struct Lock {
    bytes32 channelId;
    uint8 sender;
    uint256 amount;
    bytes32 hashlock;
    uint64 expiry;
    bytes32 ref;
}

/// @notice A withdrawal from an open channel, signed by both participants.
/// @param channelId The channel to withdraw from.
/// @param participant Index (0 or 1) of the participant whose payee receives it.
/// @param total Participant's cumulative withdrawal; the contract pays `total - withdrawn`.
/// @param expiry Last block timestamp at which the withdrawal may be executed.
struct Withdrawal {
    bytes32 channelId;
    uint8 participant;
    uint256 total;
    uint64 expiry;
}
