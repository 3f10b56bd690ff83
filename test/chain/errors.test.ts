/**
 * Decoding of reverts without a chain: every error of the ABI has its class, and revert data is
 * found in each error shape the three backends produce.
 */
import { expect } from "chai";
import { Interface } from "ethers";
import { Adjudicator__factory, IERC20Errors__factory } from "../../typechain-types";
import {
  ADJUDICATOR_ERROR_CLASSES,
  AdjudicatorRevertError,
  ContractRevertError,
  SignatureInvalidError,
  StateStaleError,
  decodeRevert,
  decodeRevertData,
  type AdjudicatorErrorName,
} from "../../src/chain";
import { SluiceError } from "../../src/errors";
import type { Hex } from "../../src/types";

const IFACE = Adjudicator__factory.createInterface();
/** An error shaped as ethers makes them (`code`, plus the given fields). */
function makeError(message: string, code: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), { code, shortMessage: message, ...fields });
}

const stale = IFACE.encodeErrorResult("StateStale", [3n, 9n]) as Hex;

describe("chain errors", function () {
  it("has one class per custom error of the adjudicator's ABI, decoding every argument by name", function () {
    const names: string[] = [];
    IFACE.forEachError((fragment) => {
      names.push(fragment.name);
      const values = fragment.inputs.map((input) => {
        if (input.type === "address") return "0x00000000000000000000000000000000000000aa";
        if (input.type === "bytes32") return "0x" + "ab".repeat(32);
        if (input.type === "string") return "too long";
        return 1n;
      });
      const decoded = decodeRevertData(IFACE.encodeErrorResult(fragment, values) as Hex);
      const Class = ADJUDICATOR_ERROR_CLASSES[fragment.name as AdjudicatorErrorName];
      expect(Class, fragment.name).to.not.equal(undefined);
      expect(decoded, fragment.name).to.be.instanceOf(Class);
      expect(decoded).to.be.instanceOf(AdjudicatorRevertError);
      expect(decoded).to.be.instanceOf(SluiceError);
      expect(decoded!.errorName).to.equal(fragment.name);
      expect(decoded!.name).to.equal(`${fragment.name}Error`);
      expect(Object.keys(decoded!.args)).to.deep.equal(fragment.inputs.map((i) => i.name));
    });
    expect(names.sort()).to.deep.equal(Object.keys(ADJUDICATOR_ERROR_CLASSES).sort());
  });

  it("gives uint8 indices as numbers and the other integers as bigints", function () {
    const sig = decodeRevertData(IFACE.encodeErrorResult("SignatureInvalid", [1]) as Hex);
    expect(sig).to.be.instanceOf(SignatureInvalidError);
    expect(sig!.args).to.deep.equal({ participant: 1 });
    const decoded = decodeRevertData(stale);
    expect(decoded!.args).to.deep.equal({ version: 3n, registeredVersion: 9n });
    expect(decoded!.message).to.equal("Adjudicator reverted: StateStale(version: 3, registeredVersion: 9)");
  });

  // The shapes the backends produced in test/chain/driver.test.ts, reduced to their paths.
  const shapes: [string, (data: Hex) => unknown][] = [
    ["ethers CALL_EXCEPTION (estimateGas / eth_call on a JSON-RPC node)", (data) => makeError("execution reverted", "CALL_EXCEPTION", { data })],
    ["in-process Hardhat ProviderError", (data) => Object.assign(new Error("VM Exception"), { data, transactionHash: "0x" + "11".repeat(32) })],
    [
      "hardhat node error nested in ethers' UNKNOWN_ERROR",
      (data) => makeError("could not coalesce error", "UNKNOWN_ERROR", { error: { code: -32603, message: "VM Exception", data: { message: "x", txHash: "0x" + "22".repeat(32), data } } }),
    ],
    ["JSON-RPC body kept as text", (data) => Object.assign(new Error("server error"), { info: { responseBody: JSON.stringify({ error: { code: 3, data } }) } })],
    ["an error wrapped as the cause of another", (data) => new Error("outer", { cause: makeError("execution reverted", "CALL_EXCEPTION", { data }) })],
  ];
  for (const [shape, make] of shapes) {
    it(`finds the revert data in: ${shape}`, function () {
      const original = make(stale);
      const decoded = decodeRevert(original);
      expect(decoded).to.be.instanceOf(StateStaleError);
      expect(decoded!.args).to.deep.equal({ version: 3n, registeredVersion: 9n });
      expect(decoded!.cause).to.equal(original);
    });
  }

  it("reports the mined transaction's hash when the node gave one", function () {
    expect(decodeRevert(shapes[1][1](stale))!.transactionHash).to.equal("0x" + "11".repeat(32));
    expect(decodeRevert(shapes[2][1](stale))!.transactionHash).to.equal("0x" + "22".repeat(32));
    expect(decodeRevert(shapes[0][1](stale))!.transactionHash).to.equal(undefined);
  });

  it("decodes token errors, Error(string) and Panic as ContractRevertError, and unknown data raw", function () {
    const tokenData = IERC20Errors__factory.createInterface().encodeErrorResult("ERC20InsufficientAllowance", [
      "0x00000000000000000000000000000000000000aa",
      5n,
      7n,
    ]) as Hex;
    const token = decodeRevert(makeError("execution reverted", "CALL_EXCEPTION", { data: tokenData }));
    expect(token).to.be.instanceOf(ContractRevertError);
    expect(token).to.not.be.instanceOf(AdjudicatorRevertError);
    expect(token!.errorName).to.equal("ERC20InsufficientAllowance");
    expect(token!.args).to.deep.equal({ spender: "0x00000000000000000000000000000000000000AA", allowance: 5n, needed: 7n });

    const reason = decodeRevertData(("0x08c379a0" + new Interface([]).getAbiCoder().encode(["string"], ["no"]).slice(2)) as Hex);
    expect([reason!.errorName, reason!.args]).to.deep.equal(["Error", { message: "no" }]);
    const panic = decodeRevertData(("0x4e487b71" + new Interface([]).getAbiCoder().encode(["uint256"], [0x11]).slice(2)) as Hex);
    expect([panic!.errorName, panic!.args]).to.deep.equal(["Panic", { code: 0x11n }]);

    const unknown = decodeRevert(makeError("execution reverted", "CALL_EXCEPTION", { data: "0xdeadbeef" }));
    expect(unknown).to.be.instanceOf(ContractRevertError);
    expect([unknown!.errorName, unknown!.data]).to.deep.equal([undefined, "0xdeadbeef"]);
  });

  it("leaves errors that are not reverts alone", function () {
    expect(decodeRevert(new Error("connect ECONNREFUSED 127.0.0.1:8545"))).to.equal(undefined);
    expect(decodeRevert(makeError("timeout", "TIMEOUT", { operation: "call" }))).to.equal(undefined);
    const already = decodeRevertData(stale)!;
    expect(decodeRevert(already)).to.equal(already);
  });
});
