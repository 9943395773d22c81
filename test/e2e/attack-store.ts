/**
 * What the store holds, seen without osp, for the attack corpus (attack-corpus.test.ts): a snapshot before
 * and after each hostile request, their difference, and a restore to the seeded state so that one case's
 * damage cannot hide the next case's leak. s3rver is read as files (its directory tree, sha256 of every file,
 * and the files an escaping key would create next to that directory); radosgw through its own S3 API.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { Stack } from "./harness.js";

/** Store entry → fingerprint (sha256 of a file, `dir`, `size:etag` of an object, `upload`). */
export type Snapshot = ReadonlyMap<string, string>;

export interface StoreView {
  snapshot(): Promise<Snapshot>;
  /** Puts the store back as it was at `baseline()` (nothing to do when nothing changed); returns its state. */
  restore(): Promise<Snapshot>;
  /** Takes the current state as the baseline (after seeding). */
  baseline(): Promise<Snapshot>;
  /** The in-progress multipart upload the cases may name (it is recreated by `restore` if consumed). */
  readonly upload: { key: string; uploadId: string; partEtag: string };
}

/** The entries that differ between two snapshots, each as `+entry`, `-entry` or `~entry`. */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const changes: string[] = [];
  for (const [entry, print] of before) {
    const now = after.get(entry);
    if (now === undefined) changes.push(`-${entry}`);
    else if (now !== print) changes.push(`~${entry}`);
  }
  for (const entry of after.keys()) if (!before.has(entry)) changes.push(`+${entry}`);
  return changes.sort();
}

const BUCKETS = ["data", "mapped-upstream", "forbidden"] as const;
const PART_BODY = Buffer.from("part one of carol's upload\n");

/**
 * s3rver's files: every path under its directory, and the entries of the folder above it whose names hold
 * `marker` (the canaries, and whatever a key escaping the directory would write there), under `../`.
 */
export async function createS3rverView(
  stack: Stack,
  marker: string,
  upload: { key: string },
): Promise<StoreView> {
  const root = stack.upstream.directory;
  const parent = dirname(root);
  let saved = new Map<string, Buffer | null>();
  let savedPrint: Snapshot = new Map();
  const state = { key: upload.key, uploadId: "", partEtag: "" };
  await createUpload(stack, state);

  const read = (): Map<string, Buffer | null> => {
    const files = new Map<string, Buffer | null>();
    const walk = (dir: string, rel: string) => {
      for (const name of readdirSync(dir).sort()) {
        const path = join(dir, name);
        const entry = rel === "" ? name : `${rel}/${name}`;
        if (statSync(path).isDirectory()) {
          files.set(`${entry}/`, null);
          walk(path, entry);
        } else files.set(entry, readFileSync(path));
      }
    };
    walk(root, "");
    for (const name of readdirSync(parent)) {
      if (!name.includes(marker)) continue;
      const path = join(parent, name);
      files.set(`../${name}`, statSync(path).isDirectory() ? null : readFileSync(path));
    }
    return files;
  };
  const print = (files: Map<string, Buffer | null>): Snapshot =>
    new Map(
      [...files].map(([p, b]) => [p, b === null ? "dir" : createHash("sha256").update(b).digest("hex")]),
    );

  return {
    upload: state,
    async snapshot() {
      return print(read());
    },
    async baseline() {
      saved = read();
      savedPrint = print(saved);
      return savedPrint;
    },
    async restore() {
      const now = print(read());
      if (diffSnapshots(savedPrint, now).length === 0) return now;
      for (const name of readdirSync(root)) rmSync(join(root, name), { recursive: true, force: true });
      for (const name of readdirSync(parent)) {
        if (name.includes(marker)) rmSync(join(parent, name), { recursive: true, force: true });
      }
      for (const [entry, bytes] of saved) {
        const path = entry.startsWith("../") ? join(parent, entry.slice(3)) : join(root, entry);
        if (bytes === null) mkdirSync(path, { recursive: true });
        else {
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, bytes);
        }
      }
      return print(read());
    },
  };
}

/** A store seen through its S3 API (radosgw): objects with size and ETag, in-progress uploads and parts. */
export async function createS3View(stack: Stack, upload: { key: string }): Promise<StoreView> {
  const direct = stack.direct();
  const state = { key: upload.key, uploadId: "", partEtag: "" };
  await createUpload(stack, state);
  let saved: Snapshot = new Map();
  const contents = new Map<string, Buffer>();

  const snapshot = async (): Promise<Snapshot> => {
    // Every bucket at once: each request to radosgw costs tens of milliseconds, and each case takes two.
    const perBucket = await Promise.all(BUCKETS.map((bucket) => bucketEntries(bucket)));
    return new Map(perBucket.flat());
  };
  const bucketEntries = async (bucket: string): Promise<Array<[string, string]>> => {
    const entries: Array<[string, string]> = [];
    const listing = async () => {
      let token: string | undefined;
      do {
        const page = await direct.send(
          new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) entries.push([`${bucket}/${o.Key}`, `${o.Size}:${o.ETag}`]);
        token = page.NextContinuationToken;
      } while (token !== undefined);
    };
    const uploads = async () => {
      const found = await direct.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      await Promise.all(
        (found.Uploads ?? []).map(async (u) => {
          entries.push([`${bucket}/${u.Key}#upload:${u.UploadId}`, "upload"]);
          const parts = await direct.send(
            new ListPartsCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }),
          );
          for (const p of parts.Parts ?? []) {
            entries.push([
              `${bucket}/${u.Key}#upload:${u.UploadId}#part:${p.PartNumber}`,
              `${p.Size}:${p.ETag}`,
            ]);
          }
        }),
      );
    };
    await Promise.all([listing(), uploads()]);
    return entries;
  };

  return {
    upload: state,
    snapshot,
    async baseline() {
      saved = await snapshot();
      for (const entry of saved.keys()) {
        if (entry.includes("#")) continue;
        const [bucket, key] = splitEntry(entry);
        const got = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        contents.set(entry, Buffer.from(await got.Body!.transformToByteArray()));
      }
      return saved;
    },
    async restore() {
      const now = await snapshot();
      const changes = diffSnapshots(saved, now);
      if (changes.length === 0) return now;
      let uploadLost = false;
      for (const change of changes) {
        const entry = change.slice(1);
        const [bucket, key] = splitEntry(entry);
        const upload = /^(.*)#upload:([^#]*)(#part:\d+)?$/.exec(key);
        if (upload !== null) {
          const [, uploadKey, uploadId, part] = upload;
          if (change.startsWith("+") && part === undefined) {
            await direct.send(
              new AbortMultipartUploadCommand({ Bucket: bucket, Key: uploadKey, UploadId: uploadId }),
            );
          } else if (uploadId === state.uploadId) uploadLost = true;
          continue;
        }
        if (change.startsWith("+")) {
          await direct.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        } else {
          const body = contents.get(entry)!;
          await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
        }
      }
      if (uploadLost) {
        await direct
          .send(new AbortMultipartUploadCommand({ Bucket: "data", Key: state.key, UploadId: state.uploadId }))
          .catch(() => {});
        await createUpload(stack, state);
        saved = await snapshot();
        return saved;
      }
      return snapshot();
    },
  };
}

function splitEntry(entry: string): [string, string] {
  const slash = entry.indexOf("/");
  return [entry.slice(0, slash), entry.slice(slash + 1)];
}

/** Starts carol's multipart upload straight at the store, with part 1 uploaded. */
async function createUpload(stack: Stack, state: { key: string; uploadId: string; partEtag: string }) {
  const direct = stack.direct();
  const created = await direct.send(new CreateMultipartUploadCommand({ Bucket: "data", Key: state.key }));
  state.uploadId = created.UploadId!;
  const part = await direct.send(
    new UploadPartCommand({
      Bucket: "data",
      Key: state.key,
      UploadId: state.uploadId,
      PartNumber: 1,
      Body: PART_BODY,
    }),
  );
  state.partEtag = part.ETag!;
}
