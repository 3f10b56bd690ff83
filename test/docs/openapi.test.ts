/**
 * The OpenAPI document: made from the method table and its schemas, committed as docs/openapi.json
 * (fails when they drift: `npm run openapi` rewrites it), served at GET /v1/openapi.json, and true
 * to the server: reads are GET with query parameters, writes POST with a body, the scopes are the
 * server's, and the schemas accept what the server sends.
 */
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020";
import { expect } from "chai";
import { ApiClient, startApiServer, type ApiServer } from "../../src/node/api";
import { allows, SCOPES, verbOf } from "../../src/node/api/access";
import { openApiDocument, SUMMARIES } from "../../src/node/api/openapi";
import { METHODS } from "../../src/node/api/wire";
import { OPENAPI_FILE, openApiText } from "../../scripts/openapi";
import { FakeNode, hash, PEER } from "../cli/fakeNode";
import { ETH } from "../../src/types";

type Operation = {
  operationId: string;
  summary: string;
  "x-scopes": string[];
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: unknown;
  responses: { [code: string]: unknown };
};

const TOKEN = "ab".repeat(32);

describe("OpenAPI document", function () {
  const doc = openApiDocument() as { openapi: string; paths: { [path: string]: { [verb: string]: Operation } } };

  it("docs/openapi.json is the document the code makes (run `npm run openapi` after changing the API)", function () {
    expect(readFileSync(OPENAPI_FILE, "utf8")).to.equal(openApiText());
  });

  it("has every method, with a summary, its verb, its query parameters or body, and the scopes the server applies", function () {
    expect(doc.openapi).to.equal("3.1.0");
    for (const name of Object.keys(METHODS)) {
      const verb = verbOf(name).toLowerCase();
      const path = doc.paths[`/v1/${name}`];
      expect(Object.keys(path), name).to.deep.equal([verb]);
      const op = path[verb];
      expect(op.operationId).to.equal(name);
      expect(op.summary).to.equal(SUMMARIES[name as keyof typeof SUMMARIES]).and.to.have.length.above(10);
      expect(op["x-scopes"]).to.deep.equal(SCOPES.filter((scope) => allows(scope, name)));
      expect(op.responses).to.have.keys("200", "default");
      if (verb === "get") {
        expect(op.requestBody, name).to.equal(undefined);
        for (const p of op.parameters ?? []) expect(p.in).to.equal("query");
      } else {
        expect(op.parameters, name).to.equal(undefined);
        expect(op.requestBody, name).to.not.equal(undefined);
      }
    }
    const payments = doc.paths["/v1/payments"].get;
    expect(payments.parameters!.filter((p) => p.required).map((p) => p.name)).to.deep.equal(["channelId"]);
  });

  it("describes what the server answers: each reply validates against its operation's schema (JSON Schema 2020-12)", async function () {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const fake = new FakeNode();
    fake.peerDeposit = 5n;
    const server: ApiServer = await startApiServer({ api: fake, token: TOKEN });
    const client = new ApiClient({ url: server.url, token: TOKEN });
    const check = async (name: string, init: { query?: string; body?: unknown }, status = 200) => {
      const verb = verbOf(name);
      const reply = await fetch(`${server.url}/v1/${name}${init.query ?? ""}`, {
        method: verb,
        headers: { authorization: `Bearer ${TOKEN}`, accept: "application/json", ...(verb === "POST" ? { "content-type": "application/json" } : {}) },
        ...(verb === "POST" ? { body: JSON.stringify(init.body ?? {}) } : {}),
      });
      expect(reply.status, name).to.equal(status);
      const json: unknown = await reply.json();
      const op = doc.paths[`/v1/${name}`][verb.toLowerCase()];
      const responses = op.responses as { "200": { content: { "application/json": { schema: object } } } };
      const errorSchema = (openApiDocument() as { components: { responses: { Error: { content: { "application/json": { schema: object } } } } } }).components.responses.Error.content["application/json"].schema;
      const validate = ajv.compile(status === 200 ? responses["200"].content["application/json"].schema : errorSchema);
      expect(validate(json), `${name}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
      return json;
    };
    try {
      await check("info", {});
      const opened = (await check("open", { body: { peer: PEER, peerUrl: "ws://127.0.0.1:9", asset: ETH, deposit: "10" } })) as { channelId: string };
      const id = opened.channelId;
      await check("pay", { body: { channelId: id, amount: "3", memo: "order 1" } });
      await check("channels", {});
      await check("channel", { query: `?channelId=${id}` });
      await check("payments", { query: `?channelId=${id}&limit=5` });
      await check("prove", { query: `?channelId=${id}&seq=0` });
      await check("pay", { body: { channelId: id, amount: "99999", ref: hash("too much") } }, 409);
      await check("channel", { query: `?channelId=${hash("none")}` }, 404);
    } finally {
      client.dispose();
      await server.close();
    }
  });

  it("is served at GET /v1/openapi.json to any token, identical to the committed file", async function () {
    const server: ApiServer = await startApiServer({ api: new FakeNode(), token: TOKEN });
    const client = new ApiClient({ url: server.url, token: TOKEN });
    try {
      const reply = await fetch(`${server.url}/v1/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(reply.status).to.equal(200);
      expect(`${JSON.stringify(await reply.json(), null, 2)}\n`).to.equal(readFileSync(OPENAPI_FILE, "utf8"));
      const anonymous = await fetch(`${server.url}/v1/openapi.json`);
      expect(anonymous.status).to.equal(401);
    } finally {
      client.dispose();
      await server.close();
    }
  });
});
