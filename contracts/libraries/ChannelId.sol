// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Params} from "../interfaces/SluiceTypes.sol";

/// @title Channel id of a channel's params
library ChannelId {
    /// @dev keccak256(abi.encode(params)), hashed straight from calldata: `Params` is a static struct,
    /// so its calldata bytes are its ABI encoding (participants 0x00-0x3f, payees 0x40-0x7f, asset 0x80,
    /// challengePeriod 0xa0, nonce 0xc0). Words with dirty high bits revert without data, as
    /// Solidity's own decoder does, so that the hash is that of the decoded params.
    function hash(Params calldata params) internal pure returns (bytes32 id) {
        assembly ("memory-safe") {
            let addresses :=
                or(
                    or(calldataload(params), calldataload(add(params, 0x20))),
                    or(or(calldataload(add(params, 0x40)), calldataload(add(params, 0x60))), calldataload(add(params, 0x80)))
                )
            if or(shr(160, addresses), shr(64, or(calldataload(add(params, 0xa0)), calldataload(add(params, 0xc0))))) {
                revert(0, 0)
            }
            let ptr := mload(0x40)
            calldatacopy(ptr, params, 0xe0)
            id := keccak256(ptr, 0xe0)
        }
    }

    /// @dev The fields `_checkParams` reports, read without the decoder's checks: only after `hash`.
    function fields(Params calldata params)
        internal
        pure
        returns (address participant0, address participant1, address payee0, address payee1, uint64 challengePeriod)
    {
        assembly ("memory-safe") {
            participant0 := calldataload(params)
            participant1 := calldataload(add(params, 0x20))
            payee0 := calldataload(add(params, 0x40))
            payee1 := calldataload(add(params, 0x60))
            challengePeriod := calldataload(add(params, 0xa0))
        }
    }

    /// @dev `params.asset` without the decoder's check: only after `hash`.
    function asset(Params calldata params) internal pure returns (address value) {
        assembly ("memory-safe") {
            value := calldataload(add(params, 0x80))
        }
    }
}
