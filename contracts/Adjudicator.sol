// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IAdjudicator} from "./interfaces/IAdjudicator.sol";
import {Params, State, Payment} from "./interfaces/SluiceTypes.sol";
import {ChannelRecord} from "./libraries/ChannelRecord.sol";
import {PaymentLeaf} from "./libraries/PaymentLeaf.sol";
import {Payouts} from "./libraries/Payouts.sol";
import {StateHash} from "./libraries/StateHash.sol";

/// @title Sluice adjudicator
/// @notice See {IAdjudicator}.
contract Adjudicator is IAdjudicator, EIP712, ReentrancyGuardTransient {
    using ChannelRecord for uint256;
    using SafeERC20 for IERC20;

    /// @notice Longest challenge period a channel may have; keeps deadlines in 32 bits.
    uint64 public constant MAX_CHALLENGE_PERIOD = 365 days;
    /// @notice Largest deposit of one participant in one channel (2^120 - 1 base units).
    uint256 public constant MAX_DEPOSIT = ChannelRecord.MAX_DEPOSIT;
    /// @notice Gas given to a participant receiving pushed ETH; a receiver that needs more is credited.
    uint256 public constant ETH_PUSH_GAS = 30_000;
    /// @notice Gas given to a token's `transfer` when pushing a payout; more failing means a credit.
    uint256 public constant TOKEN_PUSH_GAS = 80_000;

    struct Slots {
        uint256 funds;
        uint256 challenge;
        int256 net;
    }

    mapping(bytes32 channelId => Slots) private _channels;
    mapping(address owner => mapping(address asset => uint256)) private _credits;

    constructor() EIP712("Sluice", "1") {}

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAdjudicator
    function channelId(Params calldata params) external pure returns (bytes32) {
        return _channelId(params);
    }

    /// @inheritdoc IAdjudicator
    function hashState(State calldata state) external view returns (bytes32) {
        return _hashTypedDataV4(StateHash.structHash(state));
    }

    /// @inheritdoc IAdjudicator
    function credits(address owner, address asset) external view returns (uint256) {
        return _credits[owner][asset];
    }

    /// @inheritdoc IAdjudicator
    function channel(bytes32 id)
        external
        view
        returns (uint8 mode, uint64 version, uint64 deadline, uint256[2] memory deposits)
    {
        Slots storage ch = _channels[id];
        uint256 funds = ch.funds;
        if (funds.isConcluded()) return (3, funds.concludedVersion(), 0, deposits);
        (deposits[0], deposits[1]) = funds.deposits();
        uint256 registered = ch.challenge;
        if (registered != 0) {
            (, uint64 registeredVersion, uint32 registeredDeadline) = registered.unpackChallenge();
            return (2, registeredVersion, registeredDeadline, deposits);
        }
        return (funds == 0 ? 0 : 1, 0, 0, deposits);
    }

    /// @inheritdoc IAdjudicator
    function verifyPayment(
        bytes32 id,
        State calldata state,
        Payment calldata payment,
        bytes32[] calldata proof
    ) external view returns (bool) {
        if (state.channelId != id || payment.channelId != id) return false;
        Slots storage ch = _channels[id];
        uint256 funds = ch.funds;
        uint160 fingerprint;
        if (funds.isConcluded()) {
            fingerprint = uint160(funds);
        } else {
            uint256 registered = ch.challenge;
            if (registered == 0) return false;
            (fingerprint,,) = registered.unpackChallenge();
        }
        if (ChannelRecord.fingerprintOf(StateHash.structHash(state)) != fingerprint) return false;
        return MerkleProof.verifyCalldata(proof, state.paymentsRoot, PaymentLeaf.hash(payment));
    }

    // ---------------------------------------------------------------- deposits

    /// @inheritdoc IAdjudicator
    function deposit(Params calldata params, uint8 participant, uint256 amount) external payable {
        _checkParams(params);
        if (participant > 1) revert ParticipantIndexInvalid(participant);
        if (amount == 0) revert DepositZero();
        bytes32 id = _channelId(params);
        address asset = params.asset;
        if (asset == address(0)) {
            if (msg.value != amount) revert DepositValueMismatch(msg.value, amount);
            _addDeposit(id, participant, amount);
        } else {
            if (msg.value != 0) revert DepositValueMismatch(msg.value, 0);
            _depositToken(id, IERC20(asset), participant, amount);
        }
    }

    // ---------------------------------------------------------------- disputes and closing

    /// @inheritdoc IAdjudicator
    function challenge(Params calldata params, State calldata state, bytes[2] calldata sigs) external {
        bytes32 id = _channelIdOf(params, state);
        Slots storage ch = _channels[id];
        uint256 registered = ch.challenge;
        uint32 deadline;
        if (registered == 0) {
            _checkOpen(id, ch.funds);
            // Fits: block timestamps are below 2^32 until 2106 and the period is at most a year.
            deadline = uint32(block.timestamp + params.challengePeriod);
        } else {
            uint64 registeredVersion;
            (, registeredVersion, deadline) = registered.unpackChallenge();
            if (block.timestamp >= deadline) revert ChallengeExpired(deadline);
            if (state.version <= registeredVersion) revert StateStale(state.version, registeredVersion);
        }

        bytes32 structHash = StateHash.structHash(state);
        if (sigs[0].length == 0 && sigs[1].length == 0 && StateHash.isOpening(state)) {
            if (msg.sender != params.participants[0] && msg.sender != params.participants[1]) {
                revert OpeningChallengeUnauthorized(msg.sender);
            }
        } else {
            _checkSignatures(params, structHash, sigs);
        }

        ch.challenge = ChannelRecord.challenge(ChannelRecord.fingerprintOf(structHash), state.version, deadline);
        int256 net = Payouts.net(state.transferred);
        // A first registration finds `net` zero; skip writes that change nothing.
        if (registered == 0 ? net != 0 : ch.net != net) ch.net = net;
        emit Challenged(id, state.version, state.transferred, state.paymentsRoot, state.isFinal, deadline);
    }

    /// @inheritdoc IAdjudicator
    function close(Params calldata params, State calldata state, bytes[2] calldata sigs) external nonReentrant {
        bytes32 id = _channelIdOf(params, state);
        if (!state.isFinal) revert StateNotFinal(state.version);
        Slots storage ch = _channels[id];
        uint256 funds = ch.funds;
        _checkOpen(id, funds);
        uint256 registered = ch.challenge;
        if (registered != 0) {
            (, uint64 registeredVersion,) = registered.unpackChallenge();
            if (state.version < registeredVersion) revert StateStale(state.version, registeredVersion);
        }
        bytes32 structHash = StateHash.structHash(state);
        _checkSignatures(params, structHash, sigs);

        (uint256 deposit0, uint256 deposit1) = funds.deposits();
        (uint256 payout0, uint256 payout1) = Payouts.split(deposit0, deposit1, Payouts.net(state.transferred));
        ch.funds = ChannelRecord.concluded(state.version, ChannelRecord.fingerprintOf(structHash));
        if (registered != 0) _clearChallenge(ch);
        emit Closed(id, state.version, [payout0, payout1]);
        _payOut(params, payout0, payout1);
    }

    /// @inheritdoc IAdjudicator
    function settle(Params calldata params) external nonReentrant {
        bytes32 id = _channelId(params);
        Slots storage ch = _channels[id];
        uint256 registered = ch.challenge;
        uint256 funds = ch.funds;
        if (registered == 0) {
            _checkOpen(id, funds);
            revert ChannelNotChallenged(id);
        }
        (uint160 fingerprint, uint64 version, uint32 deadline) = registered.unpackChallenge();
        if (block.timestamp < deadline) revert ChallengePending(deadline);

        (uint256 deposit0, uint256 deposit1) = funds.deposits();
        (uint256 payout0, uint256 payout1) = Payouts.split(deposit0, deposit1, ch.net);
        ch.funds = ChannelRecord.concluded(version, fingerprint);
        _clearChallenge(ch);
        emit Settled(id, version, [payout0, payout1]);
        _payOut(params, payout0, payout1);
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

    function _channelId(Params calldata params) private pure returns (bytes32) {
        return keccak256(abi.encode(params));
    }

    function _channelIdOf(Params calldata params, State calldata state) private pure returns (bytes32 id) {
        id = _channelId(params);
        if (state.channelId != id) revert StateChannelMismatch(id, state.channelId);
    }

    function _checkParams(Params calldata params) private pure {
        address p0 = params.participants[0];
        address p1 = params.participants[1];
        if (p0 == address(0) || p1 == address(0) || p0 == p1) revert ChannelParticipantsInvalid(p0, p1);
        uint64 period = params.challengePeriod;
        if (period == 0 || period > MAX_CHALLENGE_PERIOD) revert ChannelChallengePeriodInvalid(period);
    }

    function _checkOpen(bytes32 id, uint256 funds) private pure {
        if (funds == 0) revert ChannelNotOpen(id);
        if (funds.isConcluded()) revert ChannelConcluded(id);
    }

    function _checkSignatures(Params calldata params, bytes32 structHash, bytes[2] calldata sigs) private view {
        bytes32 digest = _hashTypedDataV4(structHash);
        _checkSignature(params.participants[0], digest, sigs[0], 0);
        _checkSignature(params.participants[1], digest, sigs[1], 1);
    }

    /// @dev A key's signature must recover to the participant with a low s (ECDSA rejects
    /// malleable ones); anything else is asked of the participant as an ERC-1271 wallet.
    function _checkSignature(address signer, bytes32 digest, bytes calldata sig, uint8 index) private view {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, sig);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return;
        if (SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, sig)) return;
        revert SignatureInvalid(index);
    }

    function _clearChallenge(Slots storage ch) private {
        delete ch.challenge;
        if (ch.net != 0) delete ch.net;
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
        Slots storage ch = _channels[id];
        uint256 funds = ch.funds;
        if (funds.isConcluded()) revert ChannelConcluded(id);
        uint256 previous = funds.depositOf(participant);
        if (received > MAX_DEPOSIT - previous) revert DepositOverflow(previous, received);
        // previous + received <= MAX_DEPOSIT, checked above.
        uint256 updated;
        unchecked {
            updated = previous + received;
        }
        ch.funds = funds.withDeposit(participant, updated);
        emit Deposited(id, participant, received, updated);
    }

    function _payOut(Params calldata params, uint256 payout0, uint256 payout1) private {
        _push(params.asset, params.participants[0], payout0);
        _push(params.asset, params.participants[1], payout1);
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
    function _tryPushToken(address token, address to, uint256 amount, uint256 gasLimit)
        private
        returns (bool success)
    {
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
