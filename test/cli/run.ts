/** `sluice --datadir <dir> …` run by `main()` in this process, its output captured. */
import { main } from "../../src/cli/main";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runSluice(datadir: string, args: readonly string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(["--datadir", datadir, ...args], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stderrIsTTY: false,
    env: {},
    cwd: datadir,
  });
  return { code, stdout, stderr };
}
