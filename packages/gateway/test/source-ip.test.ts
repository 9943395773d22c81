import assert from "node:assert/strict";
import { test } from "node:test";
import { createSourceIpResolver } from "../src/index.js";

const h = (...pairs: Array<[string, string]>) => pairs;

test("without trusted proxies the TCP peer is the source, whatever X-Forwarded-For says", () => {
  const resolve = createSourceIpResolver([]);
  assert.equal(resolve("203.0.113.9", h(["x-forwarded-for", "10.0.0.1"])), "203.0.113.9");
});

test("a forwarded header from an untrusted peer is ignored", () => {
  const resolve = createSourceIpResolver(["10.0.0.0/8"]);
  assert.equal(resolve("203.0.113.9", h(["x-forwarded-for", "192.0.2.1"])), "203.0.113.9");
});

test("behind a trusted proxy the rightmost untrusted X-Forwarded-For address is the client", () => {
  const resolve = createSourceIpResolver(["10.0.0.0/8", "127.0.0.1"]);
  // The client forged 1.1.1.1; the real chain is client 198.51.100.7 → proxy 10.1.1.1 → peer 127.0.0.1.
  assert.equal(
    resolve("127.0.0.1", h(["x-forwarded-for", "1.1.1.1, 198.51.100.7, 10.1.1.1"])),
    "198.51.100.7",
  );
});

test("several X-Forwarded-For headers form one chain", () => {
  const resolve = createSourceIpResolver(["127.0.0.1"]);
  assert.equal(
    resolve("127.0.0.1", h(["x-forwarded-for", "1.1.1.1"], ["x-forwarded-for", "198.51.100.7"])),
    "198.51.100.7",
  );
});

test("RFC 7239 Forwarded is read when X-Forwarded-For is absent, IPv6 included", () => {
  const resolve = createSourceIpResolver(["::1"]);
  assert.equal(resolve("::1", h(["forwarded", 'for="[2001:db8::7]";proto=https'])), "2001:db8::7");
  assert.equal(
    resolve("::1", h(["forwarded", "for=192.0.2.60;proto=http, for=198.51.100.17"])),
    "198.51.100.17",
  );
});

test("garbage in the chain makes the peer the source", () => {
  const resolve = createSourceIpResolver(["127.0.0.1"]);
  assert.equal(resolve("127.0.0.1", h(["x-forwarded-for", "198.51.100.7, not-an-ip"])), "127.0.0.1");
});

test("a trusted proxy list entry that is not an address is a startup error", () => {
  assert.throws(() => createSourceIpResolver(["proxy.example.com"]), /not an IP address or CIDR/);
});
