// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {State} from "../interfaces/SluiceTypes.sol";

/// @title EIP-712 struct hash of a channel state
library StateHash {
    bytes32 internal constant STATE_TYPEHASH =
        keccak256("State(bytes32 channelId,uint64 version,uint256[2] transferred,bytes32 paymentsRoot,bool isFinal)");

    /// @dev hashStruct(state): an array member is encoded as the hash of its packed elements.
    /// Hashed straight from calldata, whose layout is the struct's ABI encoding: channelId at
    /// 0x00, version 0x20, transferred 0x40-0x7f, paymentsRoot 0x80, isFinal 0xa0. The fields
    /// are validated first (reverting on dirty bits), so the hash is that of the decoded state.
    function structHash(State calldata state) internal pure returns (bytes32 result) {
        uint64 version = state.version;
        bool isFinal = state.isFinal;
        bytes32 typeHash = STATE_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, add(state, 0x40), 0x40)
            let transferredHash := keccak256(ptr, 0x40)
            mstore(ptr, typeHash)
            mstore(add(ptr, 0x20), calldataload(state))
            mstore(add(ptr, 0x40), version)
            mstore(add(ptr, 0x60), transferredHash)
            mstore(add(ptr, 0x80), calldataload(add(state, 0x80)))
            mstore(add(ptr, 0xa0), isFinal)
            result := keccak256(ptr, 0xc0)
        }
    }

    /// @dev True for the opening state a participant may register without signatures.
    function isOpening(State calldata state) internal pure returns (bool) {
        return state.version == 0 && state.transferred[0] == 0 && state.transferred[1] == 0
            && state.paymentsRoot == bytes32(0) && !state.isFinal;
    }
}
