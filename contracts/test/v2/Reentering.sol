// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Base of the v2 attackers: calls `callee` with a stored payload (e.g. back into the
/// adjudicator that is paying) and records how that call ended, without reverting itself, so a
/// test can check that the re-entry was refused and gained nothing while the payout went through.
/// @dev A pushed ETH payout brings 30,000 gas and a token transfer 80,000, so the payload is kept as
/// the code of a contract (read with one EXTCODECOPY) and the bookkeeping shares one storage slot.
abstract contract Reentering {
    /// @notice Storing the payload as code failed.
    error PayloadStoreFailed();

    /// @notice Contract called back into.
    address public callee;
    /// @notice Wei sent along with the call (ETH payees only).
    uint96 public value;
    /// @notice Contract whose code, after a leading STOP byte, is the call's calldata; zero: disarmed.
    address public payloadStore;
    /// @notice Selector of the last failed call's revert (0xffffffff without data), zero if it succeeded.
    bytes4 public lastError;
    /// @notice Number of calls made.
    uint32 public reentries;

    /// @notice Sets the call made on the next payouts; an empty payload disarms.
    function arm(address callee_, bytes calldata payload, uint96 value_) external {
        callee = callee_;
        value = value_;
        if (payload.length == 0) {
            payloadStore = address(0);
            return;
        }
        // Init code: PUSH2 len, DUP1, PUSH1 0x0a, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN.
        bytes memory code = bytes.concat(hex"00", payload);
        bytes memory init = abi.encodePacked(hex"61", uint16(code.length), hex"80600a3d393df3", code);
        address store;
        assembly ("memory-safe") {
            store := create(0, add(init, 0x20), mload(init))
        }
        if (store == address(0)) revert PayloadStoreFailed();
        payloadStore = store;
    }

    /// @dev Makes the armed call, if any, and records its outcome.
    function _reenter() internal {
        address store = payloadStore;
        if (store == address(0)) return;
        bytes memory data;
        assembly ("memory-safe") {
            let size := sub(extcodesize(store), 1)
            data := mload(0x40)
            mstore(data, size)
            extcodecopy(store, add(data, 0x20), 1, size)
            mstore(0x40, add(add(data, 0x20), and(add(size, 0x1f), not(0x1f))))
        }
        (bool ok, bytes memory ret) = callee.call{value: value}(data);
        bytes4 selector;
        if (!ok) selector = ret.length >= 4 ? bytes4(ret) : bytes4(0xffffffff);
        lastError = selector;
        ++reentries;
    }
}
