/**
 * A hub: one node (its own process) with a channel to each of 100 peers; the peers are
 * `SluiceNode`s hosted several to a process. The hub opens every channel (it is participant 0,
 * deposits, and pays: it sequences); each peer countersigns and stores in its own SQLite file.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ETH, type Address, type Hex } from "../../src/types";
import type { BenchChain } from "./chain";
import { Harness, type LoadReport } from "./harness";
import { summarizeProfile, type ProfileSummary } from "./profile";

export interface HubOptions {
  channels: number;
  peerProcesses: number;
  closedTotal: number;
  concurrency: number[];
  openSeconds: number;
  openRates: number[];
}

export interface HubResult {
  channels: number;
  peerProcesses: number;
  nodesPerPeerProcess: number;
  openSeconds: number;
  closed: (LoadReport & { concurrency: number })[];
  open: LoadReport[];
  best: { concurrency: number; perSecond: number };
  profile: ProfileSummary | null;
}

export async function hubBench(chain: BenchChain, o: HubOptions, log: (s: string) => void): Promise<HubResult> {
  const work = mkdtempSync(path.join(tmpdir(), "sluice-bench-hub-"));
  const profDir = path.join(work, "prof");
  const harnesses: Harness[] = [];
  try {
    const hub = await Harness.start({ cpuProfDir: profDir });
    harnesses.push(hub);
    await hub.call<{ address: Address; peerUrl: string }[]>("init", { rpc: chain.node.url, adjudicator: chain.adjudicator, keys: [chain.key(5)], dir: path.join(work, "hub") });
    const perProcess = Math.ceil(o.channels / o.peerProcesses);
    const peers: { address: Address; peerUrl: string }[] = [];
    for (let p = 0; p < o.peerProcesses; p++) {
      const count = Math.min(perProcess, o.channels - peers.length);
      if (count <= 0) break;
      const h = await Harness.start();
      harnesses.push(h);
      const keys = Array.from({ length: count }, () => `0x${randomBytes(32).toString("hex")}`);
      peers.push(...(await h.call<{ address: Address; peerUrl: string }[]>("init", { rpc: chain.node.url, adjudicator: chain.adjudicator, keys, dir: path.join(work, `peers-${p}`), pollMs: 600_000 })));
    }
    log(`  ${peers.length} peer nodes up in ${harnesses.length - 1} processes; opening ${peers.length} channels`);
    const channels: Hex[] = [];
    const deposit = 10n ** 18n; // 1 ETH each: a million payments of 1 gwei
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < peers.length) {
          const peer = peers[next++];
          channels.push(await hub.call<Hex>("open", { node: 0, peer: peer.address, peerUrl: peer.peerUrl, asset: ETH, deposit: deposit.toString() }));
        }
      }),
    );
    log(`  ${channels.length} channels open`);
    const pay = (args: Record<string, unknown>) => hub.call<LoadReport>("pay", { node: 0, channels, amount: "1000000000", ...args });
    await pay({ mode: "closed", total: Math.min(5_000, o.closedTotal), concurrency: 400 }); // warm-up
    const closed: HubResult["closed"] = [];
    for (const concurrency of o.concurrency) {
      const r = await pay({ mode: "closed", total: o.closedTotal, concurrency });
      closed.push({ ...r, concurrency });
      log(`  hub closed loop, ${concurrency} in flight over ${channels.length} channels: ${r.perSecond.toFixed(0)} payments/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, hub CPU/payment ${r.cpuUsPerPayment} µs, hub commits ${JSON.stringify(r.groupCommits)}${r.failed ? `, ${r.failed} failed: ${r.firstError}` : ""}`);
    }
    const best = closed.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const open: LoadReport[] = [];
    for (const rate of o.openRates) {
      const r = await pay({ mode: "open", rate, seconds: o.openSeconds });
      open.push(r);
      log(`  hub open loop ${rate}/s: achieved ${r.perSecond.toFixed(0)}/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`);
    }
    for (const h of harnesses) await h.stop();
    const files = readdirSync(profDir).filter((f) => f.endsWith(".cpuprofile"));
    const profile = files[0] ? summarizeProfile(path.join(profDir, files[0]), best.windowUs) : null;
    return {
      channels: channels.length,
      peerProcesses: harnesses.length - 1,
      nodesPerPeerProcess: perProcess,
      openSeconds: o.openSeconds,
      closed,
      open,
      best: { concurrency: best.concurrency, perSecond: best.perSecond },
      profile,
    };
  } finally {
    for (const h of harnesses) h.kill();
    if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  }
}
