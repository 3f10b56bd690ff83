// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Withdrawal} from "../interfaces/SluiceTypes.sol";

/// @title EIP-712 struct hash of a withdrawal
library WithdrawalHash {
    bytes32 internal constant WITHDRAWAL_TYPEHASH =
        keccak256("Withdrawal(bytes32 channelId,uint8 participant,uint256 total,uint64 expiry)");

    function structHash(Withdrawal calldata w) internal pure returns (bytes32) {
        return keccak256(abi.encode(WITHDRAWAL_TYPEHASH, w.channelId, w.participant, w.total, w.expiry));
    }
}
