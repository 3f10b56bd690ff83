/**
 * A JSON-RPC provider over several endpoints of one chain (`--rpc A,B,C`, in order of preference).
 * Every call goes to the endpoint in use; one that fails there (no answer, a dropped connection, an
 * HTTP error, a timeout) goes to the next endpoint at once, which becomes the one in use. A JSON-RPC
 * error reply (a revert, a nonce too low) is the chain's answer and is passed on: the same call
 * would get it anywhere. While a less preferred endpoint is in use, the preferred one is probed in
 * the background (eth_chainId), first after `probeMs` and then twice as long after each failed
 * probe, up to MAX_PROBE_MS; once it answers, calls go back to it.
 *
 * An endpoint serves calls only once it has answered eth_chainId with the chain's id: at `connect`
 * for those that answer then, else before its first call; one of another chain is never used.
 */
import { FetchRequest, JsonRpcProvider, Network, type JsonRpcPayload, type JsonRpcResult } from "ethers";
import { ChainResponseError } from "./errors";

/** The longest wait between two probes of the preferred endpoint. */
const MAX_PROBE_MS = 30_000;
/** How long a call may wait for an endpoint's answer by default before it counts as failed. */
export const DEFAULT_RPC_TIMEOUT_MS = 15_000;

/** An endpoint serves another chain than the first one that answered. */
export class RpcChainMismatchError extends ChainResponseError {
  static override readonly code: string = "RPC_CHAIN_MISMATCH";
  override readonly name: string = "RpcChainMismatchError";

  constructor(
    readonly url: string,
    readonly chainId: bigint,
    readonly expected: bigint,
  ) {
    super(`the JSON-RPC endpoint ${redactUrl(url)} serves chain ${chainId}, not chain ${expected} like the others: give only endpoints of one chain`);
  }
}

/** No endpoint answered; `cause` is the last failure. */
export class RpcUnavailableError extends ChainResponseError {
  static override readonly code: string = "RPC_UNAVAILABLE";
  override readonly name: string = "RpcUnavailableError";

  constructor(
    readonly urls: string[],
    options?: { cause?: unknown },
  ) {
    super(`no JSON-RPC endpoint answers (${urls.map(redactUrl).join(", ")})`, options);
  }
}

/** The URL without its path, query and credentials, which may hold an API key. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const rest = parsed.pathname.length > 1 || parsed.search !== "" ? "/…" : "";
    return `${parsed.protocol}//${parsed.host}${rest}`;
  } catch {
    return "(not a URL)";
  }
}

/** An endpoint as `sluice status` shows it. */
export interface EndpointState {
  url: string;
  active: boolean;
  failures: number;
  lastError?: string;
  lastFailureAt?: number;
}

/** Calls moved from one endpoint to another: `reason` is the failure, or `recovered` when back to the preferred one. */
export interface EndpointSwitch {
  from: string;
  to: string;
  reason: string;
}

export interface FailoverOptions {
  /** How long a call waits for an answer before it counts as failed (default DEFAULT_RPC_TIMEOUT_MS). */
  timeoutMs?: number;
  /** The first wait before the preferred endpoint is probed again (default 1,000 ms). */
  probeMs?: number;
  /** Told each time calls move to another endpoint. */
  onSwitch?: (change: EndpointSwitch) => void;
  now?: () => number;
}

interface Endpoint {
  url: string;
  verified: boolean;
  /** It serves another chain: never used. */
  excluded?: boolean;
  failures: number;
  lastError?: string;
  lastFailureAt?: number;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 500);

export class FailoverProvider extends JsonRpcProvider {
  private readonly endpoints: Endpoint[];
  private active = 0;
  private readonly timeoutMs: number;
  private readonly probeMs: number;
  private readonly now: () => number;
  private probe: NodeJS.Timeout | undefined;
  private probeDelay: number;
  onSwitch: ((change: EndpointSwitch) => void) | undefined;

  private constructor(
    urls: readonly string[],
    readonly chainId: bigint,
    verified: readonly boolean[],
    options: FailoverOptions,
  ) {
    const network = Network.from(chainId);
    super(urls[0], network, { staticNetwork: network, cacheTimeout: -1 });
    this.endpoints = urls.map((url, i) => ({ url, verified: verified[i], failures: 0 }));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    this.probeMs = options.probeMs ?? 1_000;
    this.probeDelay = this.probeMs;
    this.now = options.now ?? Date.now;
    this.onSwitch = options.onSwitch;
    this.active = verified.indexOf(true);
  }

  /**
   * Asks every endpoint for its chain id: refuses an endpoint of another chain
   * (RpcChainMismatchError) and throws RpcUnavailableError if none answers. The first endpoint that
   * answers is the one in use; those that don't are checked before their first call.
   */
  static async connect(urls: readonly string[], options: FailoverOptions = {}): Promise<FailoverProvider> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    const answers = await Promise.all(urls.map((url) => chainIdAt(url, timeoutMs).then((id) => ({ id }), (error: unknown) => ({ error }))));
    const first = answers.find((a): a is { id: bigint } => "id" in a);
    if (first === undefined) throw new RpcUnavailableError([...urls], { cause: (answers[answers.length - 1] as { error: unknown }).error });
    answers.forEach((a, i) => {
      if ("id" in a && a.id !== first.id) throw new RpcChainMismatchError(urls[i], a.id, first.id);
    });
    const provider = new FailoverProvider(urls, first.id, answers.map((a) => "id" in a), options);
    answers.forEach((a, i) => {
      if ("error" in a) provider.failed(i, a.error);
    });
    if (provider.active !== 0) provider.scheduleProbe();
    return provider;
  }

  /** The endpoints in order of preference, the one in use marked. */
  get states(): EndpointState[] {
    return this.endpoints.map((e, i) => ({
      url: redactUrl(e.url),
      active: i === this.active,
      failures: e.failures,
      ...(e.lastError === undefined ? {} : { lastError: e.lastError }),
      ...(e.lastFailureAt === undefined ? {} : { lastFailureAt: e.lastFailureAt }),
    }));
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const order = [this.active, ...this.endpoints.map((_, i) => i).filter((i) => i !== this.active)].filter((i) => !this.endpoints[i].excluded);
    let lastError: unknown;
    for (const index of order) {
      try {
        await this.verify(index);
        const body = await post(this.endpoints[index].url, payload, this.timeoutMs);
        if (index !== this.active) this.switchTo(index, lastError === undefined ? "the endpoint in use failed" : message(lastError));
        return (Array.isArray(body) ? body : [body]) as JsonRpcResult[];
      } catch (error) {
        lastError = error;
        if (!(error instanceof RpcChainMismatchError)) this.failed(index, error);
      }
    }
    // The last failure as it is: the callers recognise a chain that does not answer by it (failures.ts).
    if (lastError instanceof Error) throw lastError;
    throw new RpcUnavailableError(
      order.map((i) => this.endpoints[i].url),
      { cause: lastError },
    );
  }

  override destroy(): void {
    clearTimeout(this.probe);
    this.probe = undefined;
    super.destroy();
  }

  /** Checks the chain id of an endpoint not yet checked (RpcChainMismatchError, and it is never used). */
  private async verify(index: number): Promise<void> {
    const endpoint = this.endpoints[index];
    if (endpoint.verified) return;
    const id = await chainIdAt(endpoint.url, this.timeoutMs);
    if (id !== this.chainId) {
      const error = new RpcChainMismatchError(endpoint.url, id, this.chainId);
      this.failed(index, error);
      endpoint.excluded = true;
      throw error;
    }
    endpoint.verified = true;
  }

  private failed(index: number, error: unknown): void {
    const endpoint = this.endpoints[index];
    endpoint.failures++;
    endpoint.lastError = message(error);
    endpoint.lastFailureAt = this.now();
  }

  private switchTo(index: number, reason: string): void {
    const from = this.endpoints[this.active].url;
    this.active = index;
    this.probeDelay = this.probeMs;
    if (index === 0) {
      clearTimeout(this.probe);
      this.probe = undefined;
    } else this.scheduleProbe();
    try {
      this.onSwitch?.({ from: redactUrl(from), to: redactUrl(this.endpoints[index].url), reason });
    } catch {
      // A listener that fails must not fail the call that succeeded.
    }
  }

  /** Probes the preferred endpoint after `probeDelay`, doubling the delay after each failed probe. */
  private scheduleProbe(): void {
    if (this.probe !== undefined || this.destroyed) return;
    this.probe = setTimeout(() => {
      this.probe = undefined;
      if (this.active === 0 || this.destroyed) return;
      void this.verify(0)
        .then(() => chainIdAt(this.endpoints[0].url, this.timeoutMs))
        .then(
          () => this.switchTo(0, "recovered"),
          (error: unknown) => {
            if (error instanceof RpcChainMismatchError) return;
            this.failed(0, error);
            this.probeDelay = Math.min(MAX_PROBE_MS, this.probeDelay * 2);
            this.scheduleProbe();
          },
        );
    }, this.probeDelay);
    this.probe.unref();
  }
}

/** POSTs a JSON-RPC request (or batch) and returns the body; throws on no answer, an HTTP error or a timeout. */
async function post(url: string, payload: unknown, timeoutMs: number): Promise<unknown> {
  const request = new FetchRequest(url);
  request.timeout = timeoutMs;
  request.body = JSON.stringify(payload);
  request.setHeader("content-type", "application/json");
  const response = await request.send();
  response.assertOk();
  return response.bodyJson as unknown;
}

/** The chain id an endpoint answers with (eth_chainId). */
async function chainIdAt(url: string, timeoutMs: number): Promise<bigint> {
  const body = (await post(url, { method: "eth_chainId", params: [], id: 1, jsonrpc: "2.0" }, timeoutMs)) as { result?: unknown; error?: { message?: string } };
  if (typeof body.result !== "string") throw new Error(`eth_chainId: ${body.error?.message ?? "no result"}`);
  return BigInt(body.result);
}
