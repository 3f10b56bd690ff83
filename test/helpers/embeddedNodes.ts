/**
 * Two SluiceNodes in the test's process over the embedded Hardhat chain (dev keys 1 and 2, a fresh
 * adjudicator each time): `useEmbeddedNodes(name)` registers the hooks that give each test a data
 * directory and stop its nodes after it, and returns the function that starts them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { HDNodeWallet, Mnemonic } from "ethers";
import { ethers } from "hardhat";
import { deployAdjudicator, DEV_MNEMONIC, type AdjudicatorDriver } from "../../src/chain";
import { SluiceNode, type NodeOptions } from "../../src/node/node";
import type { Hex } from "../../src/types";

export const devKey = (index: number) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).privateKey as Hex;

export interface EmbeddedPair {
  alice: SluiceNode;
  bob: SluiceNode;
  driver: AdjudicatorDriver;
}

export function useEmbeddedNodes(name: string): () => Promise<EmbeddedPair> {
  let dir: string;
  let nodes: SluiceNode[] = [];
  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), `sluice-${name}-`));
  });
  afterEach(async function () {
    for (const node of nodes) await node.stop().catch(() => undefined);
    nodes = [];
    rmSync(dir, { recursive: true, force: true });
  });
  return async (extra: Partial<NodeOptions> = {}) => {
    const [deployer] = await ethers.getSigners();
    const driver = await deployAdjudicator(deployer);
    const make = (i: number) =>
      new SluiceNode({ privateKey: devKey(i), provider: ethers.provider, adjudicator: driver.address, storePath: path.join(dir, `node${i}`, "store.sqlite"), pollMs: 50, challengePeriod: 600n, ...extra });
    const alice = make(1);
    const bob = make(2);
    nodes.push(alice, bob);
    await alice.start();
    await bob.start();
    return { alice, bob, driver };
  };
}
