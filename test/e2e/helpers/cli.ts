/** `sluice` as a user runs it: `node bin/sluice.js`, a process per command, SLUICE_DATADIR unset. */
import { execFile } from "node:child_process";
import path from "node:path";

const CLI = path.resolve(__dirname, "..", "..", "..", "bin", "sluice.js");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `sluice <args>` in its own process; resolves with its exit code and output. */
export function sluice(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 120_000, env: { ...process.env, SLUICE_DATADIR: "" } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}
