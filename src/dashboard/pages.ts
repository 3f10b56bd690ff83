/**
 * The dashboard's files: plain ES modules, CSS and SVG under `static/` (copied next to the compiled
 * code by bin/build.js), served as they are: no build step, nothing from another origin. Every page
 * response carries a Content-Security-Policy that allows scripts, styles, images and connections
 * from the page's own origin only, and no inline script.
 */
import { promises as fs } from "node:fs";
import type http from "node:http";
import path from "node:path";

export const STATIC_DIR = path.join(__dirname, "static");

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const PAGE_HEADERS: http.OutgoingHttpHeaders = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-cache",
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** `/` is the page; `/ui/<file>` its scripts, styles and images (lower-case names, no `..`). */
export function staticFileOf(pathname: string): string | undefined {
  if (pathname === "/" || pathname === "/index.html") return "index.html";
  const match = /^\/ui\/((?:[a-z0-9-]+\/)*[a-z0-9-]+\.(?:js|css|svg))$/.exec(pathname);
  return match?.[1];
}

/** Answers with a file of static/ (404 if it is not there). */
export async function serveStatic(res: http.ServerResponse, file: string): Promise<void> {
  let body: Buffer;
  try {
    body = await fs.readFile(path.join(STATIC_DIR, file));
  } catch {
    res.writeHead(404, { ...PAGE_HEADERS, "content-type": "text/plain; charset=utf-8" });
    res.end(`no file ${file}`);
    return;
  }
  res.writeHead(200, { ...PAGE_HEADERS, "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "content-length": body.length });
  res.end(body);
}

/** A short HTML page (a login link that no longer works). */
export function sendHtmlNotice(res: http.ServerResponse, status: number, title: string, text: string): void {
  const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title><link rel="stylesheet" href="/ui/style.css"></head><body><main class="notice"><h1>${escape(title)}</h1><p>${escape(text)}</p><p><a href="/">Log in</a></p></main></body></html>`;
  res.writeHead(status, { ...PAGE_HEADERS, "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
