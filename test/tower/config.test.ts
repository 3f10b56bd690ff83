/** The tower's settings of `sluice node start`: refused with a clear error before anything starts or is written. */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { NodeConfigError, startNode, type NodeStartOptions } from "../../src/node/start";

describe("tower: settings at node start", function () {
  let dir: string;

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-tower-config-"));
  });

  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  const rows: { what: string; options: Partial<NodeStartOptions>; message: RegExp }[] = [
    { what: "towerEvery without a tower to hand states to", options: { towerEvery: 4 }, message: /towerEvery .*give towerUrl \(--tower-url\) too/ },
    { what: "towerAddress without a tower URL", options: { towerAddress: "0x000000000000000000000000000000000000ad02" }, message: /towerAddress .*give towerUrl \(--tower-url\) too/ },
    { what: "towerListen without running a tower", options: { towerListen: { host: "127.0.0.1", port: 9736 } }, message: /towerListen .*give tower \(--tower\) too/ },
    { what: "a towerEvery of 0", options: { towerUrl: "ws://127.0.0.1:9736", towerEvery: "0" }, message: /towerEvery "0": expected a whole number from 1 to 1000000/ },
    { what: "a tower URL that is not ws:// or wss://", options: { towerUrl: "http://127.0.0.1:9736" }, message: /towerUrl "http:\/\/127.0.0.1:9736"/ },
  ];
  for (const row of rows) {
    it(`refuses ${row.what}, creating nothing`, async function () {
      const datadir = path.join(dir, "node");
      const options: NodeStartOptions = { datadir, adjudicator: "0x000000000000000000000000000000000000ad01", log: () => undefined, ...row.options };
      const error = await startNode(options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(NodeConfigError);
      expect((error as Error).message).to.match(row.message);
      expect(existsSync(datadir)).to.equal(false);
    });
  }
});
