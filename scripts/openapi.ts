/**
 * `npm run openapi`: writes docs/openapi.json, the OpenAPI 3.1 document of the node's local API
 * (src/node/api/openapi.ts, served at GET /v1/openapi.json). test/docs/openapi.test.ts fails when
 * the committed file and the code differ.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { openApiDocument } from "../src/node/api/openapi";

export const OPENAPI_FILE = path.resolve(__dirname, "..", "docs", "openapi.json");

export function openApiText(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(OPENAPI_FILE, openApiText());
  console.log(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}`);
}
