// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The fixed part of a channel: never changes, and its hash is the channel id.
/// @param participants The two parties; index 0 and index 1 everywhere else.
/// @param asset The channel's single asset: address(0) for ETH, else an ERC-20 token.
/// @param challengePeriod Seconds a registered state can be refuted before it settles.
/// @param nonce Distinguishes channels between the same participants and asset.
struct Params {
    address[2] participants;
    address asset;
    uint64 challengePeriod;
    uint64 nonce;
}

/// @notice The variable part of a channel, signed by both participants.
/// @param channelId keccak256(abi.encode(params)) of the channel this state belongs to.
/// @param version Strictly increasing with every new state.
/// @param transferred Cumulative amount participant i has paid to the other since opening.
/// @param paymentsRoot Merkle root of every payment made in the channel so far.
/// @param isFinal True for the closing state; nothing is signed after it.
struct State {
    bytes32 channelId;
    uint64 version;
    uint256[2] transferred;
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
