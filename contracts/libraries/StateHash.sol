// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {State} from "../interfaces/SluiceTypes.sol";

/// @title EIP-712 struct hash of a channel state
library StateHash {
    bytes32 internal constant STATE_TYPEHASH = keccak256(
        "State(bytes32 channelId,uint64 version,uint256[2] transferred,uint256[2] locked,bytes32 locksRoot,bytes32 paymentsRoot,bool isFinal)"
    );

    /// @dev hashStruct(state): an array member is encoded as the hash of its packed elements.
    /// Hashed straight from calldata, whose layout is the struct's ABI encoding: channelId at
    /// 0x00, version 0x20, transferred 0x40-0x7f, locked 0x80-0xbf, locksRoot 0xc0, paymentsRoot
    /// 0xe0, isFinal 0x100. version and isFinal are read through Solidity first, which reverts on
    /// dirty bits, so the hash is that of the decoded state.
    function structHash(State calldata state) internal pure returns (bytes32 result) {
        uint64 version = state.version;
        bool isFinal = state.isFinal;
        bytes32 typeHash = STATE_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, add(state, 0x40), 0x40)
            let transferredHash := keccak256(ptr, 0x40)
            calldatacopy(ptr, add(state, 0x80), 0x40)
            let lockedHash := keccak256(ptr, 0x40)
            mstore(ptr, typeHash)
            mstore(add(ptr, 0x20), calldataload(state))
            mstore(add(ptr, 0x40), version)
            mstore(add(ptr, 0x60), transferredHash)
            mstore(add(ptr, 0x80), lockedHash)
            calldatacopy(add(ptr, 0xa0), add(state, 0xc0), 0x40)
            mstore(add(ptr, 0xe0), isFinal)
            result := keccak256(ptr, 0x100)
        }
    }

    /// @dev True for the opening state a participant or payee may register without signatures.
    function isOpening(State calldata state) internal pure returns (bool) {
        return state.version == 0 && state.transferred[0] == 0 && state.transferred[1] == 0
            && !hasLocks(state) && state.paymentsRoot == bytes32(0) && !state.isFinal;
    }

    /// @dev True if the state holds anything back for locks.
    function hasLocks(State calldata state) internal pure returns (bool) {
        return state.locked[0] != 0 || state.locked[1] != 0 || state.locksRoot != bytes32(0);
    }
}
