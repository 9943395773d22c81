/**
 * The other cluster worker of bench/pool's contended rows: a process that uploads the same signed body
 * through a verify pool of the same config, two at a time, over and over, until killed. With it running, the
 * measured process has no idle core for its pool threads, as with `workers: auto` on the 2-core VM.
 *
 * Usage (forked by run.ts): node neighbour.js <config name> <body name>
 */
import { BATCH_CONFIGS, createPool, MAIN_CONFIGS, SOURCE_ONLY } from "./configs.js";
import { signedBodies, upload } from "./workload.js";

const configName = process.argv[2] ?? "inline";
const bodyName = process.argv[3] ?? "64 MiB chunked";
const config = [SOURCE_ONLY, ...MAIN_CONFIGS, ...BATCH_CONFIGS].find((c) => c.name === configName);
const body = signedBodies([64 * 1024 * 1024]).find((b) => b.name === bodyName);
if (config === undefined || body === undefined)
  throw new Error(`neighbour: unknown ${configName} / ${bodyName}`);
const pool = createPool(config);
let ready = false;
for (;;) {
  await Promise.all([upload(pool, body), upload(pool, body)]);
  if (!ready) {
    ready = true;
    process.send?.("ready");
  }
}
