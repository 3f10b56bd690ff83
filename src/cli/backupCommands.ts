/**
 * `sluice backup <file> [--force]` asks the running node for an online copy of its store;
 * `sluice restore <file> [--force]` puts one in place of a stopped node's store, every channel
 * marked to resync with its peer before it signs anything (src/node/store/backup.ts).
 */
import path from "node:path";
import type { Json } from "../node/api/wire";
import type { Hex } from "../types";
import type { Command } from "./commands";

interface Held {
  bytes: number;
  states: number;
  channels: { channelId: Hex; version: bigint }[];
}

const heldJson = (held: Held): { [key: string]: Json } => ({
  bytes: held.bytes,
  states: held.states,
  channels: held.channels.map((c) => ({ channelId: c.channelId, version: c.version.toString() })),
});

function heldText(held: Held): string {
  const lines = [`${held.bytes} bytes, ${held.channels.length} channel(s), ${held.states} countersigned state(s)`];
  for (const c of held.channels) lines.push(`  ${c.channelId}  version ${c.version}`);
  return lines.join("\n");
}

export const BACKUP_COMMANDS: readonly Command[] = [
  {
    name: "backup",
    usage: "backup <file> [--force]",
    summary: "write a consistent copy of the running node's store to <file>",
    help: [
      "Asks the running node for a copy of its store (SQLite's online backup: payments go on",
      "meanwhile, the copy is the store as of one commit) and writes it to <file>, a path on the",
      "node's machine. Never overwrites a file unless --force. Prints its size and, per channel, the",
      "latest version it holds. Restore it with `sluice restore <file>` (the node stopped).",
      "",
      "Example: sluice backup /var/backups/sluice-$(date +%F).sqlite",
    ].join("\n"),
    options: { force: { type: "boolean" } },
    positionals: [1, 1],
    run: async (ctx, [file], values) => {
      const target = ctx.resolvePath(file);
      const written = await (await ctx.client()).backup(target, values.force === true);
      return { json: { file: written.file, ...heldJson(written) }, text: `backup written to ${written.file}: ${heldText(written)}` };
    },
  },
  {
    name: "restore",
    usage: "restore <file> [--force]",
    summary: "put a backup in place of the (stopped) node's store; its channels resync before signing",
    help: [
      "Replaces the store of the data directory (--datadir) with the backup <file>, once it checks out:",
      "no node running in the data directory; a SQLite file that passes PRAGMA integrity_check; a",
      "Sluice store of a schema this version knows; the backup of this node (its key, chain and",
      "adjudicator: those of the store it replaces, and the address the data directory was started with).",
      "A store that holds newer states than the backup is kept unless --force (then it is moved",
      "beside it, store.sqlite.replaced-<time>). Nothing changes when a check fails.",
      "",
      "Every restored channel signs nothing (no payment, lock, cash-out, countersignature or close)",
      "until the node has resynced it with its peer: when the peer connects, the node adopts the",
      "peer's newest countersigned states (checked) and, as participant 0, moves its version",
      "reservation above them, so no version is signed twice. Until then such calls fail with",
      "CHANNEL_RESYNC_REQUIRED; the watcher defends the channel with the best state it has.",
    ].join("\n"),
    options: { force: { type: "boolean" } },
    positionals: [1, 1],
    run: async (ctx, [file], values) => {
      const { ChannelStore, NodeRunningError } = await import("../node/store");
      const { runningNodePid } = await import("../node/start");
      const { datadirAddress } = await import("../node/preflight");
      const datadir = ctx.resolvePath(ctx.datadir);
      const pid = runningNodePid(datadir);
      if (pid !== undefined) throw new NodeRunningError(datadir, pid);
      const address = datadirAddress(datadir);
      const storePath = path.join(datadir, "store.sqlite");
      const restored = ChannelStore.restore({ file: ctx.resolvePath(file), storePath, expected: address === undefined ? {} : { address }, force: values.force === true });
      const replaced = restored.replaced === undefined ? "" : `\nthe store it replaced is kept at ${restored.replaced}`;
      return {
        json: { file: restored.file, store: storePath, ...heldJson(restored), ...(restored.replaced === undefined ? {} : { replaced: restored.replaced }) },
        text:
          `restored ${restored.file} into ${storePath}: ${heldText(restored)}${replaced}\n` +
          `every channel resyncs with its peer before it signs anything: start the node (\`${ctx.hint("sluice node start")}\`) and let its peers connect`,
      };
    },
  },
];
