// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {KeyOwned} from "./KeyOwned.sol";

/// @notice A contract wallet (ERC-1271) that accepts a digest signed by its owner's key, unless
/// its owner has told it to reject every signature (contract signatures are revocable).
contract ERC1271Wallet is KeyOwned {
    /// @notice `setRejecting` by someone other than the owner.
    error WalletUnauthorized(address caller);

    /// @notice When true `isValidSignature` accepts nothing.
    bool public rejecting;

    constructor(address owner_) KeyOwned(owner_) {}

    /// @notice Makes the wallet reject (true) or check (false) signatures.
    function setRejecting(bool rejecting_) external {
        if (msg.sender != owner) revert WalletUnauthorized(msg.sender);
        rejecting = rejecting_;
    }

    /// @inheritdoc KeyOwned
    function isValidSignature(bytes32 hash, bytes calldata signature) public view override returns (bytes4) {
        if (rejecting) return 0xffffffff;
        return super.isValidSignature(hash, signature);
    }

    receive() external payable {}
}
