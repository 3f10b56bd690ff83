import { readFileSync } from "node:fs";
import path from "node:path";
import { subtask } from "hardhat/config";
import {
  TASK_COMPILE_SOLIDITY_CHECK_ERRORS,
  TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD,
  TASK_TEST_GET_TEST_FILES,
} from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";

const SOLC_VERSION = "0.8.28";

// No internet on the build machines: compile with the pinned `solc` npm package (solcjs)
// instead of letting Hardhat download a native compiler.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper() as Promise<unknown>;
  const solcPackage = path.dirname(require.resolve("solc/package.json"));
  const { version } = JSON.parse(readFileSync(path.join(solcPackage, "package.json"), "utf8")) as { version: string };
  return {
    compilerPath: path.join(solcPackage, "soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: version,
  };
});

interface SolcMessage {
  severity: string;
  errorCode?: string;
  formattedMessage?: string;
  message: string;
  sourceLocation?: { file: string };
}

// solc warns about every tstore; OpenZeppelin's transient reentrancy guard clears its slot on
// exit, the one use the warning itself calls safe.
const isTransientGuardNotice = (w: SolcMessage) =>
  w.errorCode === "2394" && w.sourceLocation?.file === "@openzeppelin/contracts/utils/TransientSlot.sol";

// Compiler warnings fail the build (solidity-coverage's instrumented build excepted).
subtask(TASK_COMPILE_SOLIDITY_CHECK_ERRORS, async (args: { output: { errors?: SolcMessage[] } }, hre, runSuper) => {
  await runSuper(args);
  const coverage = (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING;
  const warnings = (args.output.errors ?? []).filter((e) => e.severity === "warning" && !isTransientGuardNotice(e));
  if (warnings.length > 0 && !coverage) {
    throw new Error(`solc warnings are errors:\n${warnings.map((w) => w.formattedMessage ?? w.message).join("\n")}`);
  }
});

// Only `*.test.ts` and `*.fuzz.ts` are suites; helpers and child-process fixtures under test/
// must not be loaded by mocha.
subtask(TASK_TEST_GET_TEST_FILES, async (args: { testFiles: string[] }, _hre, runSuper) => {
  const files = (await runSuper(args)) as string[];
  return args.testFiles.length > 0 ? files : files.filter((f) => /\.(test|fuzz)\.ts$/.test(f));
});

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      // OpenZeppelin 5 uses mcopy; Hardhat 2.29 would default 0.8.28 to "paris".
      evmVersion: "cancun",
      viaIR: true,
      // The adjudicator is deployed once and called for every channel: weight runtime gas.
      optimizer: { enabled: true, runs: 1_000_000 },
    },
  },
  networks: {
    hardhat: { allowUnlimitedContractSize: false },
    localhost: { url: process.env.SLUICE_RPC_URL ?? "http://127.0.0.1:8545" },
  },
  gasReporter: { enabled: process.env.REPORT_GAS === "true" },
  mocha: { timeout: 600_000 },
};

export default config;
