/**
 * The attack corpus: "the upstream request carries only what osp understood and authorized". A shared
 * bucket `data`; carol may read, write, delete and list only under `carol/`; dave everything on `data` but
 * nothing under `secret/`; neither has `admin`. Each hostile request (dot segments, path-like query values,
 * oracles, unverified bytes, privileged headers: attack-table.ts) is judged by what the store holds
 * afterwards and by what the answer reveals, not only by its status (attack-cases.ts), against s3rver (a store
 * that maps keys to file paths, with canary files next to its folder) and against radosgw where Ceph is
 * installed (one radosgw for the whole block: it takes seconds to start).
 */
import assert from "node:assert/strict";
import { readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { radosgwAvailable } from "@osp/testkit";
import {
  ATTACK_RULES_YAML,
  CAROL,
  DAVE,
  type Env,
  judge,
  MARKER,
  seed,
  UPLOAD_KEY,
  VHOST_DOMAIN,
} from "./attack-cases.js";
import { createS3rverView, createS3View } from "./attack-store.js";
import { ATTACK_CASES, LITERAL_KEY_CASES } from "./attack-table.js";
import { type Recorded, startStack } from "./harness.js";

const BLOCKS = [
  { upstream: "s3rver", keys: "safe", cases: ATTACK_CASES },
  { upstream: "radosgw", keys: "safe", cases: ATTACK_CASES },
  // docs/security.md: radosgw keeps "a/../b" as that key, so `keys: literal` may let such keys through.
  { upstream: "radosgw", keys: "literal", cases: LITERAL_KEY_CASES },
] as const;

for (const { upstream, keys, cases } of BLOCKS) {
  const skip =
    upstream === "radosgw" && !radosgwAvailable() ? "Ceph is not installed: no radosgw to attack" : false;
  const title = `attack corpus of #14 through osp to ${upstream}${keys === "literal" ? " (keys: literal)" : ""}`;
  describe(title, { skip, timeout: 300_000 }, () => {
    let env: Env;
    before(async () => {
      const recorded: Recorded[] = [];
      const stack = await startStack({
        upstream,
        keys,
        credentials: [CAROL, DAVE],
        authorizationYaml: ATTACK_RULES_YAML,
        extraYaml: `addressing: { virtualHostDomains: [${VHOST_DOMAIN}] }`,
        recordUpstream: recorded,
      });
      await seed(stack, upstream);
      const store =
        upstream === "s3rver"
          ? await createS3rverView(stack, MARKER, { key: UPLOAD_KEY })
          : await createS3View(stack, { key: UPLOAD_KEY });
      await store.baseline();
      env = { stack, upstream, store, recorded };
    });
    after(async () => {
      if (env === undefined) return;
      const parent = dirname(env.stack.upstream.directory);
      await env.stack.close();
      for (const name of readdirSync(parent)) {
        if (name.includes(MARKER)) rmSync(join(parent, name), { recursive: true, force: true });
      }
    });

    for (const c of cases) {
      if (c.upstreams !== undefined && !c.upstreams.includes(upstream)) continue;
      test(c.name, async () => {
        const { reply, problems } = await judge(env, c);
        assert.deepEqual(problems, [], `${reply.sent}\n→ ${reply.status} ${reply.body.slice(0, 400)}`);
      });
    }
  });
}
