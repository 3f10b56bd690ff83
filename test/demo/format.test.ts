import { expect } from "chai";
import { columns, formatAmount, formatCount, formatFixed, formatUsdCents, roundTo, roundToTotal } from "../../scripts/demo/format";

describe("the demo report's amounts (scripts/demo/format)", function () {
  describe("#roundTo", function () {
    const rows: [string, bigint, number, number, bigint][] = [
      ["rounds down below the half", 19_716_306_499_999_999_999n, 18, 6, 19_716_306n],
      ["rounds up from the half", 19_716_306_500_000_000_000n, 18, 6, 19_716_307n],
      ["rounds a negative half away from zero", -1_005n, 3, 2, -101n],
      ["rounds a negative below the half towards zero", -1_004n, 3, 2, -100n],
      ["keeps an exact value", 59_643_800_000n, 6, 2, 5_964_380n],
      ["keeps zero", 0n, 18, 6, 0n],
      ["rounds a tiny negative to zero, not minus zero", -1n, 18, 6, 0n],
      ["widens when more decimals are shown than exist", 5n, 0, 2, 500n],
    ];
    for (const [what, value, base, shown, expected] of rows) {
      it(what, function () {
        expect(roundTo(value, base, shown)).to.equal(expected);
      });
    }

    it("refuses decimals that aren't whole numbers of at least 0", function () {
      expect(() => roundTo(1n, -1, 2)).to.throw(RangeError, "decimals must be whole numbers");
      expect(() => roundTo(1n, 6, 1.5)).to.throw(RangeError, "decimals must be whole numbers");
    });
  });

  describe("#formatFixed", function () {
    const rows: [bigint, number, string][] = [
      [5_964_380n, 2, "59,643.80"],
      [-5_964_380n, 2, "-59,643.80"],
      [0n, 2, "0.00"],
      [0n, 6, "0.000000"],
      [7n, 2, "0.07"],
      [-7n, 2, "-0.07"],
      [100_000n, 2, "1,000.00"],
      [99_999n, 2, "999.99"],
      [123n, 0, "123"],
      [1_234_567n, 0, "1,234,567"],
      [10n ** 30n, 6, "1,000,000,000,000,000,000,000,000.000000"],
      [-(10n ** 30n) - 1n, 2, "-10,000,000,000,000,000,000,000,000,000.01"],
    ];
    for (const [scaled, decimals, expected] of rows) {
      it(`${scaled} with ${decimals} decimals is ${expected}`, function () {
        expect(formatFixed(scaled, decimals)).to.equal(expected);
      });
    }
  });

  describe("#formatAmount", function () {
    it("shows ETH to 6 decimals, not 18", function () {
      expect(formatAmount(19_716_306_666_666_666_488n, "ETH")).to.equal("19.716307 ETH");
      expect(formatAmount(-19_716_306_666_666_666_488n, "ETH")).to.equal("-19.716307 ETH");
    });

    it("shows USDC with thousands separators and always 2 decimals", function () {
      expect(formatAmount(-59_643_800_000n, "USDC")).to.equal("-59,643.80 USDC");
      expect(formatAmount(238_030_840_000n, "USDC")).to.equal("238,030.84 USDC");
      expect(formatAmount(1_000_000n, "USDC")).to.equal("1.00 USDC");
      expect(formatAmount(0n, "USDC")).to.equal("0.00 USDC");
    });

    it("rounds sub-cent USDC to the cent", function () {
      expect(formatAmount(1_235_000n, "USDC")).to.equal("1.24 USDC");
      expect(formatAmount(-1_234_999n, "USDC")).to.equal("-1.23 USDC");
    });

    it("shows huge amounts in full", function () {
      expect(formatAmount(2n ** 256n - 1n, "ETH")).to.equal("115,792,089,237,316,195,423,570,985,008,687,907,853,269,984,665,640,564,039,457.584008 ETH");
    });
  });

  describe("#roundToTotal", function () {
    it("rounds rows so that they add up to the rounded total", function () {
      // Three thirds of 1.00: each rounds to 0.33 alone, and they would show 0.99 against a total of 1.00.
      const third = 333_333n;
      const { rows, total } = roundToTotal([third, third, third + 1n], 6, 2);
      expect(total).to.equal(100n);
      expect(rows.reduce((a, b) => a + b, 0n)).to.equal(total);
      expect(rows).to.deep.equal([33n, 33n, 34n]);
    });

    it("keeps every row within one shown unit of its exact value, negatives included", function () {
      const values = [19_716_306_666_666_666_488n, -19_716_306_666_666_666_488n, 1_500_000_000_000n, -2_499_999_999_999n];
      const { rows, total } = roundToTotal(values, 18, 6);
      expect(rows.reduce((a, b) => a + b, 0n)).to.equal(total);
      expect(total).to.equal(roundTo(values.reduce((a, b) => a + b, 0n), 18, 6));
      values.forEach((v, i) => {
        const error = rows[i] * 10n ** 12n - v;
        expect(error < 10n ** 12n && error > -(10n ** 12n), `row ${i}`).to.equal(true);
      });
    });

    it("changes nothing when every row is exact", function () {
      expect(roundToTotal([238_030_840_000n, -59_810_540_000n, -178_220_300_000n], 6, 2)).to.deep.equal({ rows: [23_803_084n, -5_981_054n, -17_822_030n], total: 0n });
    });

    it("gives zero for no rows", function () {
      expect(roundToTotal([], 18, 6)).to.deep.equal({ rows: [], total: 0n });
    });
  });

  describe("#formatUsdCents, #formatCount, #columns", function () {
    it("shows dollars with separators and the sign before the dollar sign", function () {
      expect(formatUsdCents(586_450n)).to.equal("$5,864.50");
      expect(formatUsdCents(-586_450n)).to.equal("-$5,864.50");
      expect(formatUsdCents(0n)).to.equal("$0.00");
    });

    it("counts with separators", function () {
      expect(formatCount(99_254_208n)).to.equal("99,254,208");
      expect(formatCount(3153)).to.equal("3,153");
    });

    it("aligns columns left or right to the widest cell", function () {
      expect(
        columns(
          [
            ["Alice", "1.00"],
            ["Customer 10", "-1,000.00"],
          ],
          ["left", "right"],
          " ",
        ),
      ).to.deep.equal(["Alice            1.00", "Customer 10 -1,000.00"]);
    });
  });
});
