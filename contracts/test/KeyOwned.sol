// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice Base of the test receivers: an owner key that signs for the contract through ERC-1271,
/// and `execute`, which makes calls as the contract and bubbles up their revert data unchanged.
/// The adjudicator accepts no ERC-1271 signature (protocol v2 signs with ECDSA keys only), so these
/// contracts serve as payees; the signature tests show a wallet's signature refused.
abstract contract KeyOwned is IERC1271 {
    /// @notice The key whose signatures the contract accepts as its own.
    address public immutable owner;

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Calls `to` with `data` as this contract; a revert comes back with the callee's data.
    function execute(address to, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return ret;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) public view virtual returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}
