// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {State} from "../interfaces/SluiceTypes.sol";

/// @title EIP-712 struct hash of a channel state
library StateHash {
    bytes32 internal constant STATE_TYPEHASH =
        keccak256("State(bytes32 channelId,uint64 version,uint256[2] transferred,bytes32 paymentsRoot,bool isFinal)");

    /// @dev hashStruct(state): an array member is encoded as the hash of its packed elements.
    function structHash(State calldata state) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                STATE_TYPEHASH,
                state.channelId,
                state.version,
                keccak256(abi.encodePacked(state.transferred)),
                state.paymentsRoot,
                state.isFinal
            )
        );
    }

    /// @dev True for the opening state a participant may register without signatures.
    function isOpening(State calldata state) internal pure returns (bool) {
        return state.version == 0 && state.transferred[0] == 0 && state.transferred[1] == 0
            && state.paymentsRoot == bytes32(0) && !state.isFinal;
    }
}
