import assert from "node:assert/strict";
import { test } from "node:test";
import { formatRemoteAddress } from "../src/index.js";

test("writes peer addresses the way RFC 5952 and logs expect them", () => {
  const cases: Array<[string, string]> = [
    ["127.0.0.1", "127.0.0.1"],
    ["0000:0000:0000:0000:0000:0000:0000:0001", "::1"],
    ["0000:0000:0000:0000:0000:0000:0000:0000", "::"],
    ["2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"],
    ["2001:0db8:0000:0001:0000:0000:0000:0001", "2001:db8:0:1::1"],
    ["2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"],
    ["2001:0db8:0001:0001:0001:0001:0001:0001", "2001:db8:1:1:1:1:1:1"],
    ["2001:0db8:0000:0001:0001:0001:0001:0001", "2001:db8:0:1:1:1:1:1"],
    ["FE80:0000:0000:0000:0000:0000:0000:00AB", "fe80::ab"],
    ["0000:0000:0000:0000:0000:ffff:c0a8:0001", "192.168.0.1"],
    ["not:an:address", "not:an:address"],
  ];
  for (const [input, expected] of cases) assert.equal(formatRemoteAddress(input), expected, input);
});

test("gives an IPv6 peer its canonical short form", async (t) => {
  const { RawConnection, requestHead, startTestServer } = await import("./raw-connection.js");
  const seen: string[] = [];
  const server = await startTestServer(
    (req, _body, res) => {
      seen.push(req.remoteAddress);
      res.end();
    },
    { host: "::1" },
  );
  t.after(() => server.closeAll());
  const conn = await RawConnection.open(server.port, "::1");
  t.after(() => conn.close());
  conn.write(requestHead("GET", "/"));
  await conn.readResponse();
  assert.deepEqual(seen, ["::1"]);
});
