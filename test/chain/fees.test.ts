/** The fee arithmetic of the sender: first bid, replacement bids, the cap. */
import { expect } from "chai";
import { FeeCapExceededError } from "../../src/chain/errors";
import { capOf } from "../../src/chain/feeCap";
import { bumpedFees, initialFees, minimumBump, type Fees } from "../../src/chain/fees";

const GWEI = 10n ** 9n;

describe("fees", function () {
  describe("#initialFees", function () {
    const rows: [string, { baseFee: bigint; tip: bigint }, bigint, Fees][] = [
      ["twice the base fee plus the tip", { baseFee: 10n * GWEI, tip: 2n * GWEI }, 100n * GWEI, { maxFeePerGas: 22n * GWEI, maxPriorityFeePerGas: 2n * GWEI }],
      ["cut to the cap when that is less", { baseFee: 10n * GWEI, tip: 2n * GWEI }, 15n * GWEI, { maxFeePerGas: 15n * GWEI, maxPriorityFeePerGas: 2n * GWEI }],
      ["exactly base fee plus tip at the cap", { baseFee: 10n * GWEI, tip: 2n * GWEI }, 12n * GWEI, { maxFeePerGas: 12n * GWEI, maxPriorityFeePerGas: 2n * GWEI }],
    ];
    for (const [description, market, cap, expected] of rows) {
      it(description, function () {
        expect(initialFees(market, cap, "deposit")).to.deep.equal(expected);
      });
    }

    it("refuses when base fee plus tip is above the cap, naming both", function () {
      const error = (() => {
        try {
          initialFees({ baseFee: 10n * GWEI, tip: 2n * GWEI + 1n }, 12n * GWEI, "deposit");
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).to.be.instanceOf(FeeCapExceededError);
      expect([(error as FeeCapExceededError).fee, (error as FeeCapExceededError).cap]).to.deep.equal([12n * GWEI + 1n, 12n * GWEI]);
      expect((error as Error).message).to.equal(
        "deposit needs a fee of 12.000000001 gwei per gas, above the cap of 12 gwei (--max-fee): not sent; wait for fees to fall or raise the cap",
      );
    });
  });

  describe("#bumpedFees", function () {
    const sent: Fees = { maxFeePerGas: 20n * GWEI, maxPriorityFeePerGas: 2n * GWEI };
    const calm = { baseFee: 5n * GWEI, tip: GWEI };
    const rows: [string, { baseFee: bigint; tip: bigint }, bigint, boolean, Fees | undefined][] = [
      ["+12.5 % on both in a calm market", calm, 100n * GWEI, false, { maxFeePerGas: 22_500_000_000n, maxPriorityFeePerGas: 2_250_000_000n }],
      ["what the market asks when that is more", { baseFee: 30n * GWEI, tip: 3n * GWEI }, 100n * GWEI, false, { maxFeePerGas: 63n * GWEI, maxPriorityFeePerGas: 3n * GWEI }],
      ["cut to the cap", { baseFee: 30n * GWEI, tip: 3n * GWEI }, 40n * GWEI, false, { maxFeePerGas: 40n * GWEI, maxPriorityFeePerGas: 3n * GWEI }],
      ["none when the cap leaves less than +12.5 %", calm, 22n * GWEI, false, undefined],
      ["the cap on both when urgent", calm, 100n * GWEI, true, { maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: 100n * GWEI }],
      ["none when urgent but already near the cap", calm, 21n * GWEI, true, undefined],
    ];
    for (const [description, market, cap, urgent, expected] of rows) {
      it(description, function () {
        expect(bumpedFees(sent, market, cap, urgent)).to.deep.equal(expected);
      });
    }

    it("rounds the +12.5 % up, so a node's minimum bump is always met", function () {
      expect(minimumBump({ maxFeePerGas: 9n, maxPriorityFeePerGas: 1n })).to.deep.equal({ maxFeePerGas: 11n, maxPriorityFeePerGas: 2n });
    });
  });

  describe("#capOf", function () {
    it("turns gwei (decimals to 1 wei) into wei per gas", function () {
      expect([capOf(200), capOf(0.5), capOf(1.000000001)]).to.deep.equal([200n * GWEI, GWEI / 2n, GWEI + 1n]);
    });
  });
});
