/**
 * The error codes are declared, stable and documented: every exported error class declares its own
 * code, no two classes share one by accident, the local API answers with the declared code (not one
 * made from the class name), and docs/api.md lists every code with the status the API answers.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { codeOf, InsufficientFundsError, InvalidAmountError, RootMismatchError, SluiceError } from "../../src/errors";
import { LocksRootMismatchError, WithdrawalExceedsBalanceError } from "../../src/channel/errors";
import { StateStaleError } from "../../src/chain/errors";
import { mapError } from "../../src/node/api/codes";
import { RemoteError, TransportError } from "../../src/node/transport/errors";
import { AmountError } from "../../src/cli/amount";
import { exportedErrorClasses, type ErrorClass } from "./classes";

/** Classes that share another class's code on purpose, and why. */
const SHARED: ReadonlyMap<ErrorClass, ErrorClass> = new Map<ErrorClass, ErrorClass>([
  // A cash-out above the balance is refused like a payment above it.
  [WithdrawalExceedsBalanceError, InsufficientFundsError],
  // A wrong locks root is refused like a wrong payments root.
  [LocksRootMismatchError, RootMismatchError],
  // The CLI refuses an amount it can't parse with the node's code for a bad amount.
  [AmountError, InvalidAmountError],
  // The peer's error reply is the transport's generic peer error.
  [RemoteError, TransportError],
]);

/** Never an API reply: their codes are documented with the status "—". */
const CLIENT_SIDE = new Set(["ApiError", "ApiUnreachableError", "ApiFileError", "CliError", "UsageError", "AmountError", "NodeProcessError", "LocalNodeError", "NodeConfigError", "KeystoreError", "WebhookSignatureError"]);

const CODE = /^[A-Z][A-Z0-9_]*$/;

/** The rows of docs/api.md's tables: code → status cell. */
function documented(): Map<string, string> {
  const rows = new Map<string, string>();
  const text = readFileSync(path.resolve(__dirname, "..", "..", "docs", "api.md"), "utf8");
  for (const match of text.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \|/gm)) {
    expect(rows.has(match[1]), `${match[1]} is documented twice`).to.equal(false);
    rows.set(match[1], match[2].trim());
  }
  return rows;
}

/** An instance without running its constructor: enough for `mapError`, which reads the class and own fields. */
const bare = (type: ErrorClass): SluiceError => Object.create(type.prototype) as SluiceError;

describe("error codes", function () {
  const classes = exportedErrorClasses();

  it("finds the error classes of every module", function () {
    const names = [...classes.keys()].map((c) => c.name);
    expect(classes.size).to.be.greaterThan(100);
    for (const name of ["SluiceError", "StateStaleError", "WithdrawalTotalError", "StoreOpenError", "ConnectFailedError", "ApiError", "UsageError", "NodeProcessError"]) {
      expect(names).to.include(name);
    }
  });

  it("every class declares its own code", function () {
    const missing = [...classes].filter(([type]) => !Object.hasOwn(type, "code"));
    expect(missing.map(([type, file]) => `${type.name} (src/${file})`), "classes that inherit their parent's code").to.deep.equal([]);
  });

  it("codes are upper case and no two classes share one unless meant to", function () {
    const byCode = new Map<string, ErrorClass>();
    for (const type of classes.keys()) {
      const code = codeOf(bare(type));
      expect(code, type.name).to.match(CODE);
      const partner = SHARED.get(type);
      if (partner !== undefined) {
        expect(code, `${type.name} shares the code of ${partner.name}`).to.equal(codeOf(bare(partner)));
        continue;
      }
      const other = byCode.get(code);
      expect(other?.name, `${type.name} and ${other?.name} both have the code ${code}`).to.equal(undefined);
      byCode.set(code, type);
    }
  });

  it("an instance carries its class's code", function () {
    expect(new StateStaleError("StateStale", { version: 1n, registeredVersion: 2n }, "0x").code).to.equal("STATE_STALE");
    expect(new WithdrawalExceedsBalanceError(0, 5n, 1n).code).to.equal("INSUFFICIENT_FUNDS");
    expect(new InvalidAmountError(0n).code).to.equal(InvalidAmountError.code);
    // A transport error carries the protocol's code; its class's code is what the API answers.
    const remote = new RemoteError("BAD_BODY", "no");
    expect([remote.code, codeOf(remote)]).to.deep.equal(["BAD_BODY", "PEER_ERROR"]);
  });

  it("the API answers with the declared code, whatever the class is called", function () {
    const error = new InsufficientFundsError(0, 5n, 1n);
    Object.defineProperty(error, "name", { value: "NotEnoughMoneyError" });
    expect(mapError(error).body.code).to.equal("INSUFFICIENT_FUNDS");
    class RenamedStale extends StateStaleError {}
    expect(mapError(new RenamedStale("StateStale", { version: 1n, registeredVersion: 2n }, "0x")).body.code).to.equal("STATE_STALE");
  });

  it("docs/api.md lists every code with the status the API answers", function () {
    const docs = documented();
    for (const type of classes.keys()) {
      const code = codeOf(bare(type));
      const status = docs.get(code);
      expect(status, `${code} (${type.name}) is not in docs/api.md`).to.not.equal(undefined);
      if (CLIENT_SIDE.has(type.name)) {
        if (SHARED.get(type) === undefined) expect(status, `${code}: a client-side code has the status "—"`).to.equal("—");
        continue;
      }
      const reply = mapError(bare(type));
      expect(status!.split(",")[0], `the status of ${code} (${type.name})`).to.equal(String(reply.status));
      expect(docs.has(reply.body.code), `${reply.body.code}, the API's code for ${type.name}`).to.equal(true);
    }
  });
});
