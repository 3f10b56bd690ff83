// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice A channel participant that is a contract (fuzzing only): it signs states as an
/// ERC-1271 wallet whose key is `owner`'s, and it refuses ETH unless `accepting`, so pushed ETH
/// payouts to it take the credit path. Its owner drives the adjudicator through `exec`.
contract RejectingParticipant is IERC1271 {
    error RejectingParticipantNotOwner(address caller);
    error RejectingParticipantRefusesEther(uint256 amount);

    address public immutable owner;
    bool public accepting;

    constructor(address owner_) {
        owner = owner_;
    }

    receive() external payable {
        if (!accepting) revert RejectingParticipantRefusesEther(msg.value);
    }

    function setAccepting(bool accepting_) external {
        if (msg.sender != owner) revert RejectingParticipantNotOwner(msg.sender);
        accepting = accepting_;
    }

    /// @notice Calls `target` with `data` as this contract; a revert bubbles up unchanged.
    function exec(address target, bytes calldata data) external returns (bytes memory) {
        if (msg.sender != owner) revert RejectingParticipantNotOwner(msg.sender);
        return Address.functionCall(target, data);
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(hash, signature);
        return err == ECDSA.RecoverError.NoError && recovered == owner ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }
}
