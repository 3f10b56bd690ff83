/** The watcher's view of the chain endpoint: the outage it reports, and the backoff between rounds. */
import { expect } from "chai";
import type { ChainHealthView } from "../../src/node/api/types";
import { ChainHealth } from "../../src/node/chainHealth";

describe("ChainHealth", function () {
  it("waits the poll interval while the endpoint answers, then twice as long after each failed round, up to 32 intervals", function () {
    const health = new ChainHealth(100);
    const delays = [health.delay];
    for (let i = 0; i < 7; i++) {
      health.failed(new Error("socket hang up"));
      delays.push(health.delay);
    }
    expect(delays).to.deep.equal([100, 200, 400, 800, 1600, 3200, 3200, 3200]);
    health.succeeded(9);
    expect(health.delay).to.equal(100);
  });

  it("caps the wait at 30 s for slower polls, and never below the poll interval", function () {
    const slow = new ChainHealth(5_000);
    for (let i = 0; i < 10; i++) slow.failed(new Error("503"));
    expect(slow.delay).to.equal(30_000);
    const slowest = new ChainHealth(60_000);
    slowest.failed(new Error("503"));
    expect(slowest.delay).to.equal(60_000);
  });

  it("reports the outage once when it begins and once when it ends, with what it knows", function () {
    let clock = 1_000;
    const changes: ["down" | "up", ChainHealthView][] = [];
    const health = new ChainHealth(100, (change, view) => changes.push([change, view]), () => clock);
    health.succeeded(41);
    expect(health.view()).to.deep.equal({ reachable: true, failures: 0, lastBlock: 41n });
    health.failed(new Error("socket hang up"));
    clock = 4_000;
    health.failed(new Error("service unavailable"));
    expect(health.view()).to.deep.equal({ reachable: false, failures: 2, downSince: 1_000n, lastError: "service unavailable", lastBlock: 41n });
    health.succeeded(45);
    expect(changes).to.deep.equal([
      ["down", { reachable: false, failures: 1, downSince: 1_000n, lastError: "socket hang up", lastBlock: 41n }],
      ["up", { reachable: true, failures: 2, downSince: 1_000n, lastError: "service unavailable", lastBlock: 45n }],
    ]);
    expect(health.view()).to.deep.equal({ reachable: true, failures: 0, lastBlock: 45n });
  });
});
