/**
 * Debian's Chromium driven by puppeteer-core for the dashboard's tests: headless, without the
 * sandbox when run as root (CI). A missing browser is a failure, not a skip: `.ci/run` installs it.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

export const CHROMIUM = process.env.SLUICE_CHROMIUM ?? "/usr/bin/chromium";
/** Where the tests write their screenshots (the main ones are committed under docs/screenshots/). */
export const SCREENSHOTS = process.env.SLUICE_SCREENSHOTS ?? path.join(tmpdir(), "sluice-dashboard-screenshots");

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (apt-get install -y chromium; .ci/run does) or set SLUICE_CHROMIUM`);
  }
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...(root ? ["--no-sandbox"] : []), "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The bytes a page transfers from the network (encoded, as on the wire) from now on. */
export async function trackTransfer(page: Page): Promise<() => { bytes: number; requests: string[] }> {
  const cdp = await page.createCDPSession();
  await cdp.send("Network.enable");
  let bytes = 0;
  const urls = new Map<string, string>();
  const requests: string[] = [];
  cdp.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, e.request.url));
  cdp.on("Network.loadingFinished", (e) => {
    const url = urls.get(e.requestId) ?? "";
    // The event stream never finishes loading; everything else counts.
    bytes += e.encodedDataLength;
    requests.push(url);
  });
  return () => ({ bytes, requests });
}

const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe-core's WCAG 2 A and AA rules on the page as it is (axe is evaluated through the
 * DevTools protocol, which the page's CSP does not govern: the page itself stays unchanged).
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE);
  const result = await page.evaluate(`axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } }).then((r) => JSON.stringify(r.violations))`);
  return (JSON.parse(String(result)) as AxeViolation[]).map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
}
