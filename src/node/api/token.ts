/**
 * The files through which the CLI finds and authenticates to the node's local API, in the data
 * directory:
 *
 * - `api.token`: 32 random bytes as hex, mode 0600, created once (atomically: written to a temp
 *   file and hard-linked into place, so two nodes starting at once agree on one token, and a
 *   reader never sees a half-written file);
 * - `api.json`: `{ "url": "http://127.0.0.1:PORT", "pid": N }`, written (atomically, by rename)
 *   by the node when its API listens and removed when it stops.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { SluiceError } from "../../errors";

export const TOKEN_FILE = "api.token";
export const API_INFO_FILE = "api.json";

const TOKEN = /^[0-9a-f]{64}$/;

/** The token file or `api.json` is missing or unusable; the message says which and why. */
export class ApiFileError extends SluiceError {
  static override readonly code: string = "API_FILE";
  override readonly name: string = "ApiFileError";

  constructor(
    readonly path: string,
    readonly problem: "missing" | "invalid",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ApiInfoFile {
  url: string;
  pid: number;
}

function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ENOENT";
}

function tempName(file: string): string {
  return `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
}

/** Creates the data directory (mode 0700) if it does not exist. */
export async function ensureDataDir(datadir: string): Promise<void> {
  await fs.mkdir(datadir, { recursive: true, mode: 0o700 });
}

/** Reads the API token of the data directory. */
export async function readApiToken(datadir: string): Promise<string> {
  const file = path.join(datadir, TOKEN_FILE);
  let content: string;
  try {
    content = await fs.readFile(file, "utf8");
  } catch (error) {
    if (isNotFound(error)) throw new ApiFileError(file, "missing", `no API token at ${file}`, { cause: error });
    throw new ApiFileError(file, "invalid", `can't read the API token ${file}: ${(error as Error).message}`, { cause: error });
  }
  const token = content.trim();
  if (!TOKEN.test(token)) throw new ApiFileError(file, "invalid", `${file} is not an API token (64 hex digits)`);
  return token;
}

/**
 * The data directory's API token, created (random, mode 0600) if there is none yet. An existing
 * token file readable by group or others is narrowed to 0600.
 */
export async function ensureApiToken(datadir: string): Promise<string> {
  await ensureDataDir(datadir);
  const file = path.join(datadir, TOKEN_FILE);
  try {
    const token = await readApiToken(datadir);
    const stat = await fs.stat(file);
    if ((stat.mode & 0o077) !== 0) await fs.chmod(file, 0o600);
    return token;
  } catch (error) {
    if (!(error instanceof ApiFileError && error.problem === "missing")) throw error;
  }
  const token = randomBytes(32).toString("hex");
  const temp = tempName(file);
  const handle = await fs.open(temp, "wx", 0o600);
  try {
    await handle.writeFile(`${token}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(temp, file);
  } catch (error) {
    // Another process created the token first: use theirs.
    if ((error as { code?: unknown }).code !== "EEXIST") throw error;
    return readApiToken(datadir);
  } finally {
    await fs.rm(temp, { force: true });
  }
  return token;
}

/** Writes `api.json` (atomically, mode 0600). */
export async function writeApiInfo(datadir: string, info: ApiInfoFile): Promise<void> {
  await ensureDataDir(datadir);
  const file = path.join(datadir, API_INFO_FILE);
  const temp = tempName(file);
  const handle = await fs.open(temp, "wx", 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(info, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/** Reads `api.json`: where the running node's API listens. */
export async function readApiInfo(datadir: string): Promise<ApiInfoFile> {
  const file = path.join(datadir, API_INFO_FILE);
  let content: string;
  try {
    content = await fs.readFile(file, "utf8");
  } catch (error) {
    if (isNotFound(error)) throw new ApiFileError(file, "missing", `no ${API_INFO_FILE} in ${datadir}`, { cause: error });
    throw new ApiFileError(file, "invalid", `can't read ${file}: ${(error as Error).message}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (error) {
    throw new ApiFileError(file, "invalid", `${file} is not JSON`, { cause: error });
  }
  const record = parsed as Partial<Record<keyof ApiInfoFile, unknown>> | null;
  if (
    typeof record !== "object" ||
    record === null ||
    typeof record.url !== "string" ||
    !/^http:\/\//.test(record.url) ||
    typeof record.pid !== "number"
  ) {
    throw new ApiFileError(file, "invalid", `${file} should hold { "url": "http://…", "pid": N }`);
  }
  return { url: record.url, pid: record.pid };
}

/**
 * Removes `api.json` (when the node stops); no error if it is gone already. With `url`, only if
 * the file still names that URL (another node may have taken the data directory over since).
 */
export async function removeApiInfo(datadir: string, url?: string): Promise<void> {
  if (url !== undefined) {
    try {
      if ((await readApiInfo(datadir)).url !== url) return;
    } catch {
      return;
    }
  }
  await fs.rm(path.join(datadir, API_INFO_FILE), { force: true });
}
