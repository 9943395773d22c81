/**
 * The caches' cost of a new key once they are full, called by `run.ts`: a client credential stored in a
 * full L1 (the cold path of a new access key: one eviction), and a token bucket taken for a new source in a
 * full map of rate-limit buckets (memory mode, or Redis down: what a flood of unsigned requests from many
 * addresses costs). Both used to grow with the entries evicted so far (packages/cache/src/map-hand.ts).
 */
import { createCache } from "@osp/cache";

interface Row {
  name: string;
  unit: string;
  value: number;
}

const silent = { info() {}, warn() {}, error() {} };

/** µs per call of `op(i)` for `count` fresh keys, after `fill` keys and as many evictions as measured. */
async function perNewKey(op: (i: number) => Promise<unknown>, fill: number, count: number): Promise<number> {
  for (let i = 0; i < fill + count; i++) await op(i); // full, then as many evictions as measured
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await op(fill + count + i);
  return Number(process.hrtime.bigint() - start) / count / 1000;
}

export async function benchCaches(): Promise<Row[]> {
  const quick = process.argv.includes("--quick");
  const l1 = createCache({ l1MaxEntries: 1_000_000, log: silent });
  const credentials = l1.namespace<{ accessKeyId: string; secretAccessKey: string }>("credential", {
    ttlMs: 3_600_000,
    negativeTtlMs: 60_000,
    shared: false,
  });
  const keyId = (i: number) => `AKIA${String(i).padStart(16, "0")}`;
  const credential = (i: number) => ({
    accessKeyId: keyId(i),
    secretAccessKey: `secret-${String(i).padStart(33, "0")}`,
  });
  const l1Us = await perNewKey(
    (i) => credentials.get(keyId(i), async () => ({ value: credential(i) })),
    45_000, // about 40,000 fit in 16 MiB
    quick ? 10_000 : 50_000,
  );
  await l1.close();
  const limits = createCache({ l1MaxEntries: 100_000, log: silent });
  const limitsUs = await perNewKey(
    // One request a minute: a bucket lives a minute, so a flood of new sources fills the map with live ones.
    (i) => limits.takeToken(`@2001:db8::${i.toString(16)}`, 1 / 60, 1),
    100_000,
    quick ? 10_000 : 100_000,
  );
  await limits.close();
  return [
    { name: "cache: new credential in a full 16 MiB L1", unit: "µs", value: l1Us },
    { name: "cache: new source's token bucket, 100,000 full", unit: "µs", value: limitsUs },
  ];
}
