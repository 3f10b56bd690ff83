// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Lock} from "../interfaces/SluiceTypes.sol";

/// @title Merkle leaf of a lock
/// @notice The payment leaf's rule (double-hashed ABI encoding) applied to a lock.
library LockLeaf {
    function hash(Lock calldata lock) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(lock))));
    }
}
