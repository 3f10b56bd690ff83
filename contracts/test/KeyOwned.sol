// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Executor} from "./Executor.sol";

/// @notice Base of the test receivers: an owner key that signs for the contract through ERC-1271,
/// and Executor's `execute`. The adjudicator accepts no ERC-1271 signature (protocol v2 signs
/// with ECDSA keys only), so these contracts serve as payees; the signature tests show a wallet's
/// signature refused.
abstract contract KeyOwned is Executor, IERC1271 {
    /// @notice The key whose signatures the contract accepts as its own.
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) public view virtual returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}
