/**
 * Errors in human amounts and plain words (issue 14, point 6): the amount formatter, the messages
 * of the wallet's errors, and the API's replies to a channel's INSUFFICIENT_FUNDS, in the channel's
 * asset and with "you" / "your peer", the base units kept in `details`.
 */
import { expect } from "chai";
import {
  ChallengePendingError,
  ChannelConcludedError,
  ContractRevertError,
  DepositOverflowError,
  SignatureInvalidError,
  StateStaleError,
  WithdrawNothingError,
} from "../../src/chain/errors";
import { chainUnreachable, isGasFundsFailure } from "../../src/chain/failures";
import { revertInPlainWords } from "../../src/chain/revertWords";
import { WithdrawalExceedsBalanceError, WithdrawalPendingError } from "../../src/channel/errors";
import { GasFundsError, InsufficientFundsError, WalletBalanceError } from "../../src/errors";
import { formatHumanAmount } from "../../src/humanText";
import { explainError } from "../../src/node/api/explain";
import type { AssetInfo, ChannelView, NodeApi } from "../../src/node/api/types";
import { samePeerUrl } from "../../src/node/open";
import { ETH, type Address, type Hex } from "../../src/types";

const ETHER = 10n ** 18n;
const eth = { symbol: "ETH", decimals: 18 };
const usdc = { symbol: "USDC", decimals: 6 };
const WALLET = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" as Address;
const CHANNEL: Hex = `0x${"ab".repeat(32)}`;

describe("errors in human amounts", function () {
  describe("formatHumanAmount", function () {
    // base units, unit, text
    const rows: [bigint, { symbol: string; decimals: number }, string][] = [
      [1_000_000n * ETHER, eth, "1,000,000 ETH"],
      [7_750_000_000_000_000_000n, eth, "7.75 ETH"],
      [1n, eth, "0.000000000000000001 ETH"],
      [0n, eth, "0 ETH"],
      [100_000_000n, usdc, "100 USDC"],
      [-59_643_800_000n, usdc, "-59,643.8 USDC"],
      [123_456_789_012n, usdc, "123,456.789012 USDC"],
      [999n, usdc, "0.000999 USDC"],
      [1234n, { symbol: "PTS", decimals: 0 }, "1,234 PTS"],
      [2n ** 256n - 1n, { symbol: "BIG", decimals: 0 }, `${(2n ** 256n - 1n).toLocaleString("en-US")} BIG`],
    ];
    for (const [amount, unit, text] of rows) {
      it(`${amount} with ${unit.decimals} decimals → ${text}`, function () {
        expect(formatHumanAmount(amount, unit)).to.equal(text);
      });
    }

    it("without separators for output a user may copy into a command", function () {
      expect(formatHumanAmount(1_000_000n * ETHER + ETHER / 4n, eth, { separators: false })).to.equal("1000000.25 ETH");
    });
  });

  describe("the wallet's errors", function () {
    it("WalletBalanceError says what the wallet has, what the open needs and what is missing", function () {
      const e = new WalletBalanceError(WALLET, ETH, 100_000n * ETHER, 7_750_000_000_000_000_000n, { ...eth, isEth: true }, "open");
      expect(e.message).to.equal(
        `you have 7.75 ETH in your wallet; opening with 100,000 ETH needs 100,000 ETH plus gas: add 99,992.25 ETH and some for gas to ${WALLET}, or open with less`,
      );
      expect([e.code, e.amount, e.balance]).to.deep.equal(["WALLET_BALANCE_TOO_LOW", 100_000n * ETHER, 7_750_000_000_000_000_000n]);
      const token = new WalletBalanceError(WALLET, "0x5fbdb2315678afecb367f032d93f642f64180aa3", 2_000_000_500_000n, 1_000_000_000_000n, { ...usdc, isEth: false }, "deposit");
      expect(token.message).to.equal(
        `you have 1,000,000 USDC in your wallet; depositing 2,000,000.5 USDC needs 2,000,000.5 USDC: add 1,000,000.5 USDC to ${WALLET}, or deposit less`,
      );
    });

    // what the provider threw, whether it is the chain refusing a transaction the wallet can't pay for
    const failures: [string, unknown, boolean][] = [
      ["ethers' INSUFFICIENT_FUNDS", { code: "INSUFFICIENT_FUNDS", message: "insufficient funds for intrinsic transaction cost" }, true],
      [
        "a hardhat node's JSON-RPC error wrapped by ethers",
        { code: "UNKNOWN_ERROR", message: "could not coalesce error", error: { code: -32000, message: "Sender doesn't have enough funds to send tx." } },
        true,
      ],
      ["a channel's InsufficientFundsError (code INSUFFICIENT_FUNDS)", new InsufficientFundsError(0, 2n, 1n), false],
      ["a revert", { code: "CALL_EXCEPTION", message: "execution reverted" }, false],
      ["not an object", "insufficient funds", false],
    ];
    for (const [what, error, expected] of failures) {
      it(`isGasFundsFailure: ${what} → ${expected}`, function () {
        expect(isGasFundsFailure(error)).to.equal(expected);
      });
    }
  });

  describe("explainError: the API's reply in the channel's asset", function () {
    /** A node with one USDC channel in which it is participant `me`. */
    function api(me: 0 | 1): NodeApi {
      const asset: AssetInfo = { asset: "0x5fbdb2315678afecb367f032d93f642f64180aa3", symbol: "USDC", decimals: 6 };
      const stub: Partial<NodeApi> = {
        info: () => Promise.resolve({ address: WALLET, chainId: 31337n, adjudicator: ETH, peerUrl: "ws://127.0.0.1:1", blockNumber: 1n, channels: 1 }),
        channel: (id: Hex) => Promise.resolve({ channelId: id, me, asset: asset.asset } as ChannelView),
        asset: () => Promise.resolve(asset),
      };
      return stub as NodeApi;
    }

    it("overpaying: 'can't pay … you can pay at most …', the base units in details", async function () {
      const reply = await explainError(new InsufficientFundsError(0, 1_000_000_000_000n, 7_750_000n), [CHANNEL, 1_000_000_000_000n], api(0));
      expect(reply.status).to.equal(409);
      expect(reply.body).to.deep.equal({
        code: "INSUFFICIENT_FUNDS",
        message: "can't pay 1,000,000 USDC: you can pay at most 7.75 USDC in this channel",
        details: { payer: 0, amount: "1000000000000", available: "7750000" },
      });
    });

    it("the peer as payer is 'your peer'; a cash-out says so", async function () {
      const peer = await explainError(new InsufficientFundsError(1, 2_000_000n, 1_000_000n), [CHANNEL], api(0));
      expect(peer.body.message).to.equal("can't pay 2 USDC: your peer can pay at most 1 USDC in this channel");
      const cashOut = await explainError(new WithdrawalExceedsBalanceError(1, 49_500_001n, 49_500_000n), [CHANNEL], api(1));
      expect(cashOut.body.message).to.equal(
        "can't cash out 49.500001 USDC: you can cash out at most 49.5 USDC in this channel (your balance less pending payments and earlier cash-outs)",
      );
      expect(cashOut.body.code).to.equal("INSUFFICIENT_FUNDS");
    });

    it("a cash-out while the previous one waits: in the asset, total kept in details", async function () {
      const reply = await explainError(new WithdrawalPendingError(50_500_000n), [CHANNEL, 1n], api(1));
      expect(reply.body).to.deep.equal({
        code: "WITHDRAWAL_PENDING",
        message: "your previous cash-out still waits for your peer's countersignature (it brings your cash-outs of this channel to 50.5 USDC in all)",
        details: { total: "50500000" },
      });
    });

    it("a chain refusing a transaction for want of ETH is GAS_FUNDS_TOO_LOW, not INTERNAL", async function () {
      const reply = await explainError({ code: "INSUFFICIENT_FUNDS", message: "insufficient funds for gas * price + value" }, [CHANNEL], api(0));
      expect(reply.body).to.deep.equal({
        code: GasFundsError.code,
        message: `your wallet ${WALLET} has too little ETH for this transaction and its gas: add ETH to it and try again`,
        details: { wallet: WALLET },
      });
    });

    it("keeps the error as it is when the channel can't be read, or no channel was named", async function () {
      const failing = { ...api(0), channel: () => Promise.reject(new Error("store closed")) } as NodeApi;
      const error = new InsufficientFundsError(0, 2n, 1n);
      expect((await explainError(error, [CHANNEL], failing)).body.message).to.equal(error.message);
      expect((await explainError(error, undefined, api(0))).body.message).to.equal(error.message);
    });
  });

  describe("the chain's refusals in plain words", function () {
    const data = "0x12345678" as Hex;
    const usdcToken = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
    // the error, the unit if known, the words
    const rows: [ContractRevertError, { symbol: string; decimals: number } | undefined, string][] = [
      [new ChallengePendingError("ChallengePending", { deadline: 1_700_000_000n }, data), undefined, "the challenge period runs until 2023-11-14T22:13:20Z"],
      [new ChannelConcludedError("ChannelConcluded", { channelId: CHANNEL }, data), undefined, "the channel has concluded on chain"],
      [new StateStaleError("StateStale", { version: 3n, registeredVersion: 9n }, data), undefined, "the chain holds a newer state (version 9) than this one (version 3)"],
      [
        new DepositOverflowError("DepositOverflow", { deposit: 5_000_000n, amount: 2n ** 128n }, data),
        usdc,
        `a deposit of ${formatHumanAmount(2n ** 128n, usdc)} on top of 5 USDC is more than the contract can hold`,
      ],
      [new WithdrawNothingError("WithdrawNothing", { owner: WALLET, asset: ETH }, data), eth, `nothing is credited to ${WALLET} in ETH`],
      [
        new ContractRevertError("Reverted", { errorName: "ERC20InsufficientBalance", args: { sender: WALLET, balance: 1_500_000n, needed: 2_000_000n } }),
        usdc,
        `the token refused the transfer: ${WALLET} holds 1.5 USDC, and 2 USDC is needed`,
      ],
      [
        new ContractRevertError("Reverted", { errorName: "ERC20InsufficientAllowance", args: { spender: usdcToken, allowance: 0n, needed: 7n } }),
        undefined,
        `the token refused the transfer: ${usdcToken} may spend only 0 base units of the wallet's tokens, and 7 base units is needed`,
      ],
    ];
    for (const [error, unit, words] of rows) {
      it(`${error.errorName} → ${words}`, function () {
        expect(revertInPlainWords(error, unit)).to.equal(words);
      });
    }

    it("errors only a faulty client causes keep the contract's words", function () {
      const error = new SignatureInvalidError("SignatureInvalid", { participant: 1 }, data);
      expect(revertInPlainWords(error)).to.equal(undefined);
      expect(error.message).to.equal("Adjudicator reverted: SignatureInvalid(participant: 1)");
    });
  });

  it("chainUnreachable: a refused or reset connection to the chain, however deep ethers wraps it", function () {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), { code: "ECONNREFUSED" });
    expect(chainUnreachable(refused)).to.equal("connect ECONNREFUSED 127.0.0.1:8545");
    expect(chainUnreachable({ code: "UNKNOWN_ERROR", message: "could not coalesce", error: { code: "ECONNRESET", message: "" } })).to.equal("ECONNRESET");
    expect(chainUnreachable({ code: "CALL_EXCEPTION", message: "execution reverted" })).to.equal(undefined);
  });

  it("samePeerUrl: the same place however written; another port is another URL", function () {
    expect(samePeerUrl("ws://127.0.0.1:9735", "ws://127.0.0.1:9735/")).to.equal(true);
    expect(samePeerUrl("WS://LOCALHOST:9735", "ws://localhost:9735")).to.equal(true);
    expect(samePeerUrl("ws://127.0.0.1:9735", "ws://127.0.0.1:9736")).to.equal(false);
    expect(samePeerUrl("ws://127.0.0.1:9735", "wss://127.0.0.1:9735")).to.equal(false);
  });
});
