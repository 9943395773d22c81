import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import { createLogger } from "@osp/log";
import { type AdminServer, startAdminServer } from "../src/index.js";

function get(port: number, path: string, headers: Record<string, string> = {}, method = "GET") {
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers, method, agent: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("admin listener", () => {
  let admin: AdminServer;
  let ready = false;
  let failMetrics = false;
  const TOKEN = "an-admin-token-of-some-length";

  before(async () => {
    admin = await startAdminServer(
      { host: "127.0.0.1", port: 0, token: null },
      {
        async metrics() {
          if (failMetrics) throw new Error("collection failed");
          return { contentType: "text/plain; version=0.0.4; charset=utf-8", text: "osp_x 1\n" };
        },
        readiness: () => ({ ready, body: { status: ready ? "ready" : "starting" } }),
        workers: async () => ({ workers: [] }),
      },
      createLogger({ level: "silent" }),
    );
  });

  after(() => admin.close());

  test("serves /metrics, /healthz, /readyz and /workers", async () => {
    assert.deepEqual(await get(admin.port, "/metrics"), {
      status: 200,
      type: "text/plain; version=0.0.4; charset=utf-8",
      body: "osp_x 1\n",
    });
    assert.equal((await get(admin.port, "/healthz")).body, "ok\n");
    assert.deepEqual(await get(admin.port, "/workers"), {
      status: 200,
      type: "application/json",
      body: '{"workers":[]}\n',
    });
  });

  test("answers /readyz 503 until ready, then 200, with the reason in JSON", async () => {
    const starting = await get(admin.port, "/readyz");
    assert.equal(starting.status, 503);
    assert.deepEqual(JSON.parse(starting.body), { status: "starting" });
    ready = true;
    const readyNow = await get(admin.port, "/readyz?verbose=1");
    assert.equal(readyNow.status, 200);
    assert.deepEqual(JSON.parse(readyNow.body), { status: "ready" });
  });

  test("answers 404 for other paths, 405 for other methods, and 500 when collecting fails", async () => {
    assert.equal((await get(admin.port, "/admin")).status, 404);
    assert.equal((await get(admin.port, "/metrics", {}, "POST")).status, 405);
    const head = await get(admin.port, "/healthz", {}, "HEAD");
    assert.deepEqual([head.status, head.body], [200, ""]);
    failMetrics = true;
    try {
      assert.equal((await get(admin.port, "/metrics")).status, 500);
    } finally {
      failMetrics = false;
    }
  });

  test("requires the bearer token once one is set, on every path", async () => {
    admin.setToken(TOKEN);
    try {
      for (const path of ["/metrics", "/healthz", "/readyz", "/workers", "/nothing"]) {
        assert.equal((await get(admin.port, path)).status, 401, `${path} without a token`);
        const wrong = { authorization: `Bearer ${TOKEN.slice(0, -1)}x` };
        assert.equal((await get(admin.port, path, wrong)).status, 401, `${path} with a wrong token`);
        const basic = { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")}` };
        assert.equal((await get(admin.port, path, basic)).status, 401, `${path} with another scheme`);
      }
      const ok = await get(admin.port, "/metrics", { authorization: `Bearer ${TOKEN}` });
      assert.equal(ok.status, 200);
      assert.equal((await get(admin.port, "/healthz", { authorization: `bearer ${TOKEN}` })).status, 200);
    } finally {
      admin.setToken(null);
    }
    assert.equal(
      (await get(admin.port, "/healthz")).status,
      200,
      "a reload that removes the token opens it again",
    );
  });
});
