/**
 * `sluice dashboard`: prints a one-time login link to the node's dashboard (the page the node
 * serves at its API address). The link holds a short-lived code, good once, that the node trades
 * for a session cookie: the token itself never appears in a URL or the browser's history.
 */
import { readApiInfo, readApiToken } from "../node/api/token";
import type { Command } from "./commands";
import { CliError } from "./errors";

interface LinkReply {
  url: string;
  expiresAt: number;
  scope: string;
}

export const DASHBOARD_COMMAND: Command = {
  name: "dashboard",
  usage: "dashboard",
  summary: "print a one-time login link to the node's dashboard",
  help: [
    "The node serves its dashboard at its API address (http://127.0.0.1:<port>/). This prints a",
    "login link for it: it works once, within two minutes, and logs the browser in with the admin",
    "token's rights. Or open the address and paste a token (`sluice token create --scope read-only`",
    "for a dashboard that can only look).",
  ].join("\n"),
  options: {},
  positionals: [0, 0],
  run: async (ctx) => {
    await ctx.client(); // the node runs: else the usual message naming the data directory
    const datadir = ctx.resolvePath(ctx.datadir);
    const [{ url }, token] = await Promise.all([readApiInfo(datadir), readApiToken(datadir)]);
    const reply = await fetch(`${url}/dashboard/link`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    const body = (await reply.json()) as LinkReply | { error?: { message?: string } };
    if (!reply.ok || !("url" in body)) {
      const error = "error" in body ? body.error : undefined;
      throw new CliError(`the node refused a login link: ${error?.message ?? `HTTP ${reply.status}`}`, "DASHBOARD_LINK");
    }
    return {
      json: { url: body.url, expiresAt: body.expiresAt, scope: body.scope },
      text: `${body.url}\nopen it within two minutes; it works once (dashboard: ${url}/)`,
    };
  },
};
