import assert from "node:assert/strict";
import https from "node:https";
import net from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { startHttpServer } from "../src/index.js";
import { RawConnection, requestHead, startTestServer } from "./raw-connection.js";

const fixtures = join(import.meta.dirname, "..", "..", "test", "fixtures");

function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

test("listening on port 0 reports the port it really bound", async (t) => {
  const server = await startTestServer((_req, _body, res) => res.end("hi"));
  t.after(() => server.closeAll());
  assert.ok(server.port > 0 && server.port < 65536);
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/"));
  assert.equal((await conn.readResponse()).body.toString(), "hi");
});

test("close() stops accepting connections while an in-flight request finishes", async (t) => {
  let finish!: () => void;
  const server = await startTestServer((_req, _body, res) => {
    res.onAborted(() => {});
    finish = () => res.end("finished");
  });
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port);
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/slow"));
  await new Promise((r) => setTimeout(r, 20));
  server.close();
  server.close(); // idempotent
  assert.equal(await connectOutcome(server.port), "ECONNREFUSED");
  finish();
  const res = await conn.readResponse();
  assert.equal(res.body.toString(), "finished");
  // Draining: the answer asks the client to go elsewhere for its next request.
  assert.equal(res.headers.find(([k]) => k === "connection")?.[1], "close");
});

test("closeAll() closes open connections and aborts in-flight requests", async (t) => {
  let aborted = false;
  const server = await startTestServer((_req, _body, res) => {
    res.onAborted(() => {
      aborted = true;
    });
  });
  const idle = await RawConnection.open(server.port);
  const busy = await RawConnection.open(server.port);
  t.after(() => {
    idle.close();
    busy.close();
  });
  busy.write(requestHead("GET", "/never"));
  await new Promise((r) => setTimeout(r, 20));
  server.closeAll();
  await Promise.all([idle.readUntilClose(), busy.readUntilClose()]);
  assert.equal(aborted, true);
  assert.equal(await connectOutcome(server.port), "ECONNREFUSED");
});

test("serves TLS from PEM files, including an encrypted key", async (t) => {
  for (const keyFile of ["localhost-key.pem", "localhost-key-encrypted.pem"]) {
    const server = await startHttpServer(
      {
        host: "127.0.0.1",
        port: 0,
        tls: {
          certFile: join(fixtures, "localhost-cert.pem"),
          keyFile: join(fixtures, keyFile),
          passphrase: "osp-test",
        },
      },
      (req, _body, res) => res.end(`tls ${req.rawPath}`),
    );
    t.after(() => server.closeAll());
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: "127.0.0.1", port: server.port, path: "/b/k", rejectUnauthorized: false }, (res) => {
          let text = "";
          res.on("data", (d: Buffer) => {
            text += d.toString();
          });
          res.on("end", () => resolve(text));
        })
        .on("error", reject);
    });
    assert.equal(body, "tls /b/k");
  }
});

test("refuses to start with a TLS file it cannot read, or a key it cannot decrypt, naming the cause", async () => {
  const handler = () => {};
  await assert.rejects(
    startHttpServer(
      { host: "127.0.0.1", port: 0, tls: { certFile: join(fixtures, "missing.pem"), keyFile: "x" } },
      handler,
    ),
    /TLS file .*missing\.pem cannot be read/,
  );
  await assert.rejects(
    startHttpServer(
      {
        host: "127.0.0.1",
        port: 0,
        tls: {
          certFile: join(fixtures, "localhost-cert.pem"),
          keyFile: join(fixtures, "localhost-key-encrypted.pem"),
          passphrase: "wrong",
        },
      },
      handler,
    ),
    /TLS setup failed .*wrong passphrase/,
  );
});

test("rejects a port that is taken exclusively, and invalid options", async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  t.after(() => blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  await assert.rejects(
    startHttpServer({ host: "127.0.0.1", port }, () => {}),
    /cannot listen on 127\.0\.0\.1:/,
  );
  await assert.rejects(
    startHttpServer({ host: "127.0.0.1", port: 70000 }, () => {}),
    RangeError,
  );
  await assert.rejects(
    startHttpServer({ host: "127.0.0.1", port: 0, maxHeaderBytes: 0 }, () => {}),
    RangeError,
  );
});
