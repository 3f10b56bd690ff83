// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IAdjudicator} from "./interfaces/IAdjudicator.sol";
import {Params, State, Payment, Lock, Withdrawal} from "./interfaces/SluiceTypes.sol";
import {ChannelId} from "./libraries/ChannelId.sol";
import {ChannelRecord} from "./libraries/ChannelRecord.sol";
import {LockLeaf} from "./libraries/LockLeaf.sol";
import {PaymentLeaf} from "./libraries/PaymentLeaf.sol";
import {Payouts} from "./libraries/Payouts.sol";
import {StateHash} from "./libraries/StateHash.sol";
import {WithdrawalHash} from "./libraries/WithdrawalHash.sol";

/// @title Sluice adjudicator
/// @notice See {IAdjudicator}.
contract Adjudicator is IAdjudicator, EIP712, ReentrancyGuardTransient {
    using ChannelRecord for uint256;
    using SafeERC20 for IERC20;

    /// @notice Longest challenge period a channel may have.
    uint64 public constant MAX_CHALLENGE_PERIOD = 365 days;
    /// @notice Largest cumulative deposit of one participant in one channel (2^120 - 1 base units).
    uint256 public constant MAX_DEPOSIT = ChannelRecord.MAX_DEPOSIT;
    /// @dev Gas given to a payee receiving pushed ETH; a receiver that needs more is credited. (No
    /// getter: every public getter ahead of `deposit` in the selector dispatch costs each deposit 22 gas.)
    uint256 internal constant ETH_PUSH_GAS = 30_000;
    /// @dev Gas given to a token's `transfer` when pushing a payout; more failing means a credit.
    uint256 internal constant TOKEN_PUSH_GAS = 80_000;

    /// @dev See ChannelRecord for the layout of each word.
    struct Record {
        uint256 funds;
        uint256 withdrawn;
        uint256 registered;
        uint256 challenge;
    }

    mapping(bytes32 channelId => Record) private _channels;
    mapping(bytes32 hashlock => uint256 revealedAt) private _secrets;
    mapping(bytes32 leaf => bool) private _resolvedLocks;
    mapping(address owner => mapping(address asset => uint256)) private _credits;

    constructor() EIP712("Sluice", "2") {}

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAdjudicator
    function channelId(Params calldata params) external pure returns (bytes32) {
        return ChannelId.hash(params);
    }

    /// @inheritdoc IAdjudicator
    function hashState(State calldata state) external view returns (bytes32) {
        return _hashTypedDataV4(StateHash.structHash(state));
    }

    /// @inheritdoc IAdjudicator
    function hashWithdrawal(Withdrawal calldata w) external view returns (bytes32) {
        return _hashTypedDataV4(WithdrawalHash.structHash(w));
    }

    /// @inheritdoc IAdjudicator
    function secretRevealedAt(bytes32 hashlock) external view returns (uint64) {
        return uint64(_secrets[hashlock]);
    }

    /// @inheritdoc IAdjudicator
    function credits(address owner, address asset) external view returns (uint256) {
        return _credits[owner][asset];
    }

    /// @inheritdoc IAdjudicator
    function channel(bytes32 id)
        external
        view
        returns (uint8 mode, uint64 version, uint64 deadline, uint256[2] memory deposits, uint256[2] memory withdrawn)
    {
        Record storage ch = _channels[id];
        uint256 funds = ch.funds;
        if (funds == 0) return (0, 0, 0, deposits, withdrawn);
        if (funds.isConcluded()) return (3, 0, 0, deposits, withdrawn);
        (deposits[0], deposits[1]) = funds.deposits();
        (withdrawn[0], withdrawn[1]) = ch.withdrawn.pair();
        uint256 challenged = ch.challenge;
        if (challenged == 0) return (1, 0, 0, deposits, withdrawn);
        (version, deadline) = challenged.unpackChallenge();
        mode = 2;
    }

    /// @inheritdoc IAdjudicator
    function heldBack(bytes32 id) external view returns (uint256[2] memory held) {
        Record storage ch = _channels[id];
        if (ch.funds.isConcluded()) (held[0], held[1]) = ch.registered.pair();
    }

    /// @inheritdoc IAdjudicator
    function lockResolved(bytes32 leaf) external view returns (bool) {
        return _resolvedLocks[leaf];
    }

    /// @inheritdoc IAdjudicator
    function verifyPayment(bytes32 id, State calldata state, Payment calldata payment, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        if (state.channelId != id || payment.channelId != id) return false;
        if (!_isKnownState(_channels[id], StateHash.structHash(state))) return false;
        return MerkleProof.verifyCalldata(proof, state.paymentsRoot, PaymentLeaf.hash(payment));
    }

    // ---------------------------------------------------------------- deposits and withdrawals

    /// @inheritdoc IAdjudicator
    function deposit(Params calldata params, uint8 participant, uint256 amount) external payable {
        bytes32 id = ChannelId.hash(params);
        _checkParams(params);
        if (participant > 1) revert ParticipantIndexInvalid(participant);
        if (amount == 0) revert DepositZero();
        address asset = ChannelId.asset(params);
        if (asset == address(0)) {
            if (msg.value != amount) revert DepositValueMismatch(msg.value, amount);
            _addDeposit(id, participant, amount);
        } else {
            if (msg.value != 0) revert DepositValueMismatch(msg.value, 0);
            _depositToken(id, IERC20(asset), participant, amount);
        }
    }

    /// @inheritdoc IAdjudicator
    function partialWithdraw(Params calldata params, Withdrawal calldata w, bytes[2] calldata sigs)
        external
        nonReentrant
    {
        bytes32 id = ChannelId.hash(params);
        if (w.channelId != id) revert WithdrawalChannelMismatch(id, w.channelId);
        uint8 participant = w.participant;
        if (participant > 1) revert ParticipantIndexInvalid(participant);
        if (block.timestamp > w.expiry) revert WithdrawalExpired(w.expiry);
        Record storage ch = _channels[id];
        uint256 funds = ch.funds;
        _checkOpen(id, funds);
        if (funds.isChallenged()) {
            (, uint64 deadline) = ch.challenge.unpackChallenge();
            revert ChannelChallenged(id, deadline);
        }
        _checkSignatures(params, WithdrawalHash.structHash(w), sigs);

        (uint256 withdrawn0, uint256 withdrawn1) = funds.hasWithdrawn() ? ch.withdrawn.pair() : (0, 0);
        uint256 previous = participant == 0 ? withdrawn0 : withdrawn1;
        uint256 total = w.total;
        if (total <= previous) return;
        (uint256 deposit0, uint256 deposit1) = funds.deposits();
        uint256 holdings = deposit0 + deposit1 - withdrawn0 - withdrawn1;
        uint256 amount = total - previous;
        if (amount > holdings) revert WithdrawalExceedsHoldings(amount, holdings);
        // total <= previous + holdings <= Σdeposit < 2^121: both halves fit 128 bits.
        ch.withdrawn = participant == 0 ? ChannelRecord.packPair(total, withdrawn1) : ChannelRecord.packPair(withdrawn0, total);
        if (!funds.hasWithdrawn()) ch.funds = funds.withWithdrawn();
        emit PartiallyWithdrawn(id, participant, amount, total);
        _push(params.asset, params.payees[participant], amount);
    }

    // ---------------------------------------------------------------- closing and disputes

    /// @inheritdoc IAdjudicator
    function challenge(Params calldata params, State calldata state, bytes[2] calldata sigs) external {
        bytes32 id = _channelIdOf(params, state);
        if (state.isFinal && StateHash.hasLocks(state)) revert StateFinalWithLocks(state.version);
        Record storage ch = _channels[id];
        uint256 challenged = ch.challenge;
        uint64 deadline;
        if (challenged == 0) {
            uint256 funds = ch.funds;
            _checkOpen(id, funds);
            ch.funds = funds.withChallenged();
            deadline = uint64(block.timestamp) + params.challengePeriod;
        } else {
            uint64 registeredVersion;
            (registeredVersion, deadline) = challenged.unpackChallenge();
            if (block.timestamp >= deadline) revert ChallengeExpired(deadline);
            if (state.version <= registeredVersion) revert StateStale(state.version, registeredVersion);
        }

        bytes32 structHash = StateHash.structHash(state);
        if (sigs[0].length == 0 && sigs[1].length == 0 && StateHash.isOpening(state)) {
            _checkOpeningCaller(params);
        } else {
            _checkSignatures(params, structHash, sigs);
        }

        ch.registered = uint256(structHash);
        ch.challenge = ChannelRecord.packChallenge(state.version, deadline);
        emit Challenged(id, state, deadline);
    }

    /// @inheritdoc IAdjudicator
    function close(Params calldata params, State calldata state, bytes[2] calldata sigs) external nonReentrant {
        bytes32 id = _channelIdOf(params, state);
        if (!state.isFinal) revert StateNotFinal(state.version);
        if (StateHash.hasLocks(state)) revert StateFinalWithLocks(state.version);
        Record storage ch = _channels[id];
        uint256 funds = ch.funds;
        _checkOpen(id, funds);
        bool challenged = funds.isChallenged();
        if (challenged) {
            (uint64 registeredVersion,) = ch.challenge.unpackChallenge();
            if (state.version < registeredVersion) revert StateStale(state.version, registeredVersion);
        }
        bytes32 structHash = StateHash.structHash(state);
        _checkSignatures(params, structHash, sigs);

        (uint256[2] memory payouts,) = _split(ch, funds, state);
        ch.funds = ChannelRecord.concluded(structHash);
        if (challenged) {
            delete ch.registered;
            delete ch.challenge;
        }
        emit Closed(id, state.version, payouts);
        _payOut(params, payouts);
    }

    /// @inheritdoc IAdjudicator
    function settle(Params calldata params, State calldata state) external nonReentrant {
        bytes32 id = _channelIdOf(params, state);
        Record storage ch = _channels[id];
        uint256 challenged = ch.challenge;
        uint256 funds = ch.funds;
        if (challenged == 0) {
            _checkOpen(id, funds);
            revert ChannelNotChallenged(id);
        }
        (, uint64 deadline) = challenged.unpackChallenge();
        if (block.timestamp < deadline) revert ChallengePending(deadline);
        bytes32 structHash = StateHash.structHash(state);
        if (ch.registered != uint256(structHash)) revert StateUnknown(id);

        (uint256[2] memory payouts, uint256[2] memory held) = _split(ch, funds, state);
        ch.funds = ChannelRecord.concluded(structHash);
        uint256 heldWord = ChannelRecord.packPair(held[0], held[1]);
        if (heldWord == 0) delete ch.registered;
        else ch.registered = heldWord;
        delete ch.challenge;
        emit Settled(id, state.version, payouts, held);
        _payOut(params, payouts);
    }

    // ---------------------------------------------------------------- locks

    /// @inheritdoc IAdjudicator
    function registerSecret(bytes32 secret) external {
        bytes32 hashlock = sha256(abi.encodePacked(secret));
        uint256 revealedAt = _secrets[hashlock];
        if (revealedAt != 0) revert SecretAlreadyRevealed(hashlock, uint64(revealedAt));
        _secrets[hashlock] = block.timestamp;
        emit SecretRevealed(hashlock, secret);
    }

    /// @inheritdoc IAdjudicator
    function resolveLock(Params calldata params, State calldata state, Lock calldata lock, bytes32[] calldata proof)
        external
        nonReentrant
    {
        bytes32 id = _channelIdOf(params, state);
        if (lock.channelId != id) revert LockChannelMismatch(id, lock.channelId);
        uint8 sender = lock.sender;
        if (sender > 1) revert ParticipantIndexInvalid(sender);
        Record storage ch = _channels[id];
        uint256 funds = ch.funds;
        if (!funds.isConcluded()) revert ChannelNotConcluded(id);
        if (!funds.concludedWith(StateHash.structHash(state))) revert StateUnknown(id);
        bytes32 leaf = LockLeaf.hash(lock);
        if (!MerkleProof.verifyCalldata(proof, state.locksRoot, leaf)) revert LockProofInvalid(leaf);
        if (_resolvedLocks[leaf]) revert LockAlreadyResolved(leaf);

        uint64 expiry = lock.expiry;
        uint256 revealedAt = _secrets[lock.hashlock];
        bool claimed = revealedAt != 0 && revealedAt <= expiry;
        if (!claimed && block.timestamp <= expiry) revert LockPending(expiry);

        (uint256 held0, uint256 held1) = ch.registered.pair();
        uint256 held = sender == 0 ? held0 : held1;
        if (held == 0) revert LockNothingHeld(leaf);
        uint256 amount = lock.amount < held ? lock.amount : held;
        unchecked {
            // amount <= held.
            held -= amount;
        }
        if (sender == 0) held0 = held;
        else held1 = held;
        ch.registered = ChannelRecord.packPair(held0, held1);
        // Once nothing is held back for the sender, no lock of it can pay again: no record needed.
        if (held != 0) _resolvedLocks[leaf] = true;

        uint8 paidTo = claimed ? 1 - sender : sender;
        emit LockResolved(id, lock.hashlock, leaf, paidTo, amount);
        _push(params.asset, params.payees[paidTo], amount);
    }

    // ---------------------------------------------------------------- credits

    /// @inheritdoc IAdjudicator
    function withdraw(address asset) external nonReentrant {
        _withdraw(asset, msg.sender);
    }

    /// @inheritdoc IAdjudicator
    function withdrawTo(address asset, address to) external nonReentrant {
        _withdraw(asset, to);
    }

    // ---------------------------------------------------------------- internals

    function _channelIdOf(Params calldata params, State calldata state) private pure returns (bytes32 id) {
        id = ChannelId.hash(params);
        if (state.channelId != id) revert StateChannelMismatch(id, state.channelId);
    }

    /// @dev Call after `ChannelId.hash(params)`, which has validated every word of `params`. One
    /// branch-free test on the hot path (every deposit); the error is worked out only on failure.
    function _checkParams(Params calldata params) private pure {
        bool bad;
        assembly ("memory-safe") {
            let p0 := calldataload(params)
            let p1 := calldataload(add(params, 0x20))
            let period := calldataload(add(params, 0xa0))
            bad :=
                or(
                    or(or(iszero(p0), iszero(p1)), eq(p0, p1)),
                    or(
                        or(iszero(calldataload(add(params, 0x40))), iszero(calldataload(add(params, 0x60)))),
                        or(iszero(period), gt(period, MAX_CHALLENGE_PERIOD))
                    )
                )
        }
        if (bad) _revertParams(params);
    }

    function _revertParams(Params calldata params) private pure {
        (address p0, address p1, address payee0, address payee1, uint64 period) = ChannelId.fields(params);
        if (p0 == address(0) || p1 == address(0) || p0 == p1) revert ChannelParticipantsInvalid(p0, p1);
        if (payee0 == address(0) || payee1 == address(0)) revert ChannelPayeesInvalid(payee0, payee1);
        revert ChannelChallengePeriodInvalid(period);
    }

    function _checkOpen(bytes32 id, uint256 funds) private pure {
        if (funds == 0) revert ChannelNotOpen(id);
        if (funds.isConcluded()) revert ChannelConcluded(id);
    }

    function _checkOpeningCaller(Params calldata params) private view {
        address caller = msg.sender;
        if (
            caller != params.participants[0] && caller != params.participants[1] && caller != params.payees[0]
                && caller != params.payees[1]
        ) revert OpeningChallengeUnauthorized(caller);
    }

    /// @dev True iff the channel concluded with, or has registered in a running challenge, the state
    /// with this struct hash.
    function _isKnownState(Record storage ch, bytes32 structHash) private view returns (bool) {
        uint256 funds = ch.funds;
        if (funds.isConcluded()) return funds.concludedWith(structHash);
        return ch.challenge != 0 && ch.registered == uint256(structHash);
    }

    function _checkSignatures(Params calldata params, bytes32 structHash, bytes[2] calldata sigs) private view {
        bytes32 digest = _hashTypedDataV4(structHash);
        _checkSignature(params.participants[0], digest, sigs[0], 0);
        _checkSignature(params.participants[1], digest, sigs[1], 1);
    }

    /// @dev ECDSA only, low s (OpenZeppelin rejects malleable signatures); no ERC-1271.
    function _checkSignature(address signer, bytes32 digest, bytes calldata sig, uint8 index) private pure {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, sig);
        if (err != ECDSA.RecoverError.NoError || recovered != signer) revert SignatureInvalid(index);
    }

    function _split(Record storage ch, uint256 funds, State calldata state)
        private
        view
        returns (uint256[2] memory payouts, uint256[2] memory held)
    {
        (uint256 deposit0, uint256 deposit1) = funds.deposits();
        (uint256 withdrawn0, uint256 withdrawn1) = funds.hasWithdrawn() ? ch.withdrawn.pair() : (0, 0);
        return Payouts.split(deposit0, deposit1, withdrawn0, withdrawn1, state.transferred, state.locked);
    }

    /// @dev Credits what arrived, so a fee-on-transfer token can't inflate a deposit. The record
    /// is read only after the token returns, and the token can't re-enter anything that moves
    /// money. An ETH deposit makes no external call and needs no guard.
    function _depositToken(bytes32 id, IERC20 token, uint8 participant, uint256 amount) private nonReentrant {
        // Refuse before pulling anything: a concluded channel takes no deposit.
        if (_channels[id].funds.isConcluded()) revert ChannelConcluded(id);
        uint256 balanceBefore = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 balanceAfter = token.balanceOf(address(this));
        if (balanceAfter <= balanceBefore) revert DepositNotReceived(address(token), amount);
        _addDeposit(id, participant, balanceAfter - balanceBefore);
    }

    function _addDeposit(bytes32 id, uint8 participant, uint256 received) private {
        Record storage ch = _channels[id];
        uint256 funds = ch.funds;
        if (funds.isConcluded()) revert ChannelConcluded(id);
        uint256 previous = funds.depositOf(participant);
        uint256 updated;
        unchecked {
            // previous <= MAX_DEPOSIT, so the subtraction can't wrap, and then neither can the sum.
            if (received > MAX_DEPOSIT - previous) revert DepositOverflow(previous, received);
            updated = previous + received;
        }
        ch.funds = funds.withDeposit(participant, updated);
        emit Deposited(id, participant, received, updated);
    }

    function _payOut(Params calldata params, uint256[2] memory payouts) private {
        _push(params.asset, params.payees[0], payouts[0]);
        _push(params.asset, params.payees[1], payouts[1]);
    }

    /// @dev Pushes a payout with bounded gas; if the receiver or the token refuses it, the
    /// amount is credited to the receiver instead, so one side can never block the other.
    function _push(address asset, address to, uint256 amount) private {
        if (amount == 0) return;
        bool isEther = asset == address(0);
        uint256 gasLimit = isEther ? ETH_PUSH_GAS : TOKEN_PUSH_GAS;
        // Whoever calls must not be able to force the credit path by sending too little gas: the
        // callee must get its whole allowance after EIP-150 keeps 1/64 back, on top of what the
        // CALL itself costs (a cold account 2,600; with ETH the transfer 9,000 and a new account 25,000).
        uint256 gasNeeded = gasLimit + gasLimit / 63 + (isEther ? 37_000 : 3_000);
        if (gasleft() < gasNeeded) revert PayoutGasInsufficient(gasleft(), gasNeeded);
        bool paid = isEther ? _tryPushEther(to, amount, gasLimit) : _tryPushToken(asset, to, amount, gasLimit);
        if (!paid) {
            _credits[to][asset] += amount;
            emit Credited(to, asset, amount);
        }
    }

    function _tryPushEther(address to, uint256 amount, uint256 gasLimit) private returns (bool success) {
        // No return data is copied, so a receiver can't make the caller pay for a large one.
        assembly ("memory-safe") {
            success := call(gasLimit, to, amount, 0, 0, 0, 0)
        }
    }

    /// @dev `transfer` succeeded iff the call did not revert and returned nothing (from a
    /// contract) or a true word, as SafeERC20 judges it.
    function _tryPushToken(address token, address to, uint256 amount, uint256 gasLimit) private returns (bool success) {
        bytes4 selector = IERC20.transfer.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), to)
            mstore(add(ptr, 0x24), amount)
            success := call(gasLimit, token, 0, ptr, 0x44, 0x00, 0x20)
            if success {
                switch returndatasize()
                case 0 { success := gt(extcodesize(token), 0) }
                default { success := and(gt(returndatasize(), 31), eq(mload(0x00), 1)) }
            }
        }
    }

    function _withdraw(address asset, address to) private {
        if (to == address(0) || to == address(this)) revert WithdrawRecipientInvalid(to);
        uint256 amount = _credits[msg.sender][asset];
        if (amount == 0) revert WithdrawNothing(msg.sender, asset);
        delete _credits[msg.sender][asset];
        emit Withdrawn(msg.sender, asset, to, amount);
        bool paid;
        if (asset == address(0)) {
            (paid,) = to.call{value: amount}("");
        } else {
            paid = IERC20(asset).trySafeTransfer(to, amount);
        }
        if (!paid) revert WithdrawFailed(msg.sender, asset, to, amount);
    }
}
