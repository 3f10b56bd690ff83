// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {KeyOwned} from "./KeyOwned.sol";

/// @notice A payee contract that, on receiving ETH, calls `callee` with a stored payload and
/// `value` wei (for instance `settle`, `close`, `withdraw` or `deposit` of the adjudicator that is
/// paying it) and records how that re-entry ended. It accepts the ETH either way, so a test can
/// check that the re-entry gained nothing while the payout itself went through.
/// @dev The payout arrives with 30,000 gas, so the payload is kept as contract code (read with
/// one EXTCODECOPY) and the bookkeeping shares one storage slot.
contract ReentrantReceiver is KeyOwned {
    /// @notice The receiver was told to reject ETH.
    error ReceiverRejected();
    /// @notice Storing the payload as code failed.
    error PayloadStoreFailed();

    /// @notice Contract the receiver re-enters.
    address public callee;
    /// @notice Selector of the last failed re-entry's revert, zero if the last one succeeded.
    bytes4 public lastError;
    /// @notice Number of re-entries attempted.
    uint32 public reentries;
    /// @notice When true, `receive` reverts.
    bool public rejecting;
    /// @notice Contract whose code (after a leading STOP byte) is the re-entry's calldata.
    address public payloadStore;
    /// @notice Wei sent along with the re-entry.
    uint96 public value;

    constructor(address owner_) payable KeyOwned(owner_) {
        // Keeps the bookkeeping slot non-zero, so that writing it during a push is cheap.
        lastError = 0xffffffff;
    }

    /// @notice Sets the re-entry made on the next ETH arrivals; an empty payload disarms.
    function arm(address callee_, bytes calldata payload_, uint96 value_) external {
        callee = callee_;
        value = value_;
        if (payload_.length == 0) {
            payloadStore = address(0);
            return;
        }
        // Init code: PUSH2 len, DUP1, PUSH1 0x0a, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN.
        bytes memory code = bytes.concat(hex"00", payload_);
        bytes memory init = abi.encodePacked(hex"61", uint16(code.length), hex"80600a3d393df3", code);
        address store;
        assembly ("memory-safe") {
            store := create(0, add(init, 0x20), mload(init))
        }
        if (store == address(0)) revert PayloadStoreFailed();
        payloadStore = store;
    }

    /// @notice Makes `receive` reject (true) or accept (false) ETH.
    function setRejecting(bool rejecting_) external {
        rejecting = rejecting_;
    }

    receive() external payable {
        if (rejecting) revert ReceiverRejected();
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
        if (!ok && ret.length > 3) selector = bytes4(ret);
        else if (!ok) selector = 0xffffffff;
        lastError = selector;
        ++reentries;
    }
}
