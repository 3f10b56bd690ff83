import { expect } from "chai";
import { attributeTail, type LoopEvent } from "../../scripts/bench/tail";

describe("bench: attributing the slowest payments to stalls (scripts/bench/tail.ts)", function () {
  // 200 payments due 1 ms apart, 1 ms each; the last two (the 1 % at or above p99) are slow.
  const dueAt = Array.from({ length: 200 }, (_, i) => 1_000_000 + i);
  const latencies = dueAt.map((_, i) => (i === 50 ? 9 : i === 150 ? 8 : 1));

  it("puts each slow payment down to the GC pauses and slow commits that overlapped it, in either process", function () {
    const payer: LoopEvent[] = [
      { kind: "gc", at: 1_000_052, ms: 2 }, // inside payment 50
      { kind: "commit", at: 1_000_100, ms: 5 }, // overlaps no slow payment
    ];
    const payee: LoopEvent[] = [
      { kind: "commit", at: 1_000_049, ms: 1.5 }, // starts before payment 50 and ends inside it
      { kind: "commit", at: 1_000_151, ms: 0.4 }, // inside payment 150, but under the threshold
    ];
    const t = attributeTail(dueAt, latencies, payer, payee);
    expect(t.slow).to.equal(2);
    expect(t.overlapping).to.deep.equal({ gcOnly: 0, commitOnly: 0, both: 1, neither: 1 });
    expect(t.payer).to.include({ gcPauses: 1, commits: 1, slowCommits: 1 });
    expect(t.payee).to.include({ gcPauses: 0, commits: 2, slowCommits: 1 });
    expect(t.payee.commitMs.max).to.equal(1.5);
  });

  it("refuses due times that do not match the latencies", function () {
    expect(() => attributeTail(dueAt.slice(1), latencies, [], [])).to.throw("199 due times for 200 latencies");
  });
});
