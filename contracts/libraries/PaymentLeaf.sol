// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Payment} from "../interfaces/SluiceTypes.sol";

/// @title Merkle leaf of a payment
/// @notice Double-hashed like OpenZeppelin's StandardMerkleTree, so that no 64-byte inner node
/// can pass for a leaf (second-preimage forgery).
library PaymentLeaf {
    function hash(Payment calldata payment) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(payment))));
    }
}
