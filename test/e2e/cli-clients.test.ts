/**
 * Other real clients through osp to s3rver and radosgw: aws-cli v2 and boto3 from Debian's packages
 * (scripts/install-system-deps.sh), each doing put, get, list and a multipart upload, with the bytes
 * compared by SHA-256.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { radosgwAvailable } from "@osp/testkit";
import { ALICE, type Stack, startStack } from "./harness.js";

const run = promisify(execFile);
const AWS = "/usr/bin/aws";
const PYTHON = "/usr/bin/python3";
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
/** Debian's python3-boto3 lives in python3's dist-packages. */
const BOTO3 = "/usr/lib/python3/dist-packages/boto3";

for (const upstream of ["s3rver", "radosgw"] as const) {
  const skip = upstream === "radosgw" && !radosgwAvailable() ? "Ceph is not installed" : false;
  describe(`aws-cli and boto3 through osp to ${upstream}`, { skip }, () => {
    // radosgw computes S3's multipart ETag (`<md5 of part md5s>-<parts>`), which shows how a client uploaded;
    // s3rver computes another.
    const multipartEtag = (parts: number) =>
      upstream === "radosgw" ? new RegExp(`-${parts}"$`) : /^"[0-9a-f]+/;
    let stack: Stack;
    let dir: string;
    let env: NodeJS.ProcessEnv;
    before(async () => {
      stack = await startStack({ upstream });
      dir = await mkdtemp(join(tmpdir(), "osp-cli-"));
      const config = join(dir, "aws-config");
      await writeFile(config, "[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n");
      env = {
        PATH: process.env.PATH,
        HOME: dir,
        AWS_CONFIG_FILE: config,
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
        AWS_ACCESS_KEY_ID: ALICE.accessKeyId,
        AWS_SECRET_ACCESS_KEY: ALICE.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_PAGER: "",
      };
    });
    after(async () => {
      await stack?.close();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });

    test("aws-cli copies 20 MiB up (multipart) and down byte for byte, and lists it", {
      skip: existsSync(AWS) ? false : "aws-cli is not installed",
    }, async () => {
      const data = randomBytes(20 * 1024 * 1024);
      const up = join(dir, "up.bin");
      const down = join(dir, "down.bin");
      await writeFile(up, data);
      const aws = (...args: string[]) => run(AWS, ["--endpoint-url", stack.endpoint, ...args], { env });
      await aws("s3", "cp", up, "s3://data/cli/big file.bin");
      await aws("s3", "cp", "s3://data/cli/big file.bin", down);
      assert.equal(sha256(await readFile(down)), sha256(data));
      const { stdout } = await aws("s3", "ls", "s3://data/cli/");
      assert.match(stdout, new RegExp(`${data.length} big file\\.bin`));
      // 20 MiB is above aws-cli's 8 MiB multipart threshold: the stored ETag says how it was uploaded.
      const head = await aws("s3api", "head-object", "--bucket", "data", "--key", "cli/big file.bin");
      assert.match(JSON.parse(head.stdout).ETag, multipartEtag(3));
    });

    test("boto3 puts, gets, lists and uploads multipart", {
      skip: existsSync(PYTHON) && existsSync(BOTO3) ? false : "boto3 (python3-boto3) is not installed",
    }, async () => {
      const script = `
import boto3, hashlib, os, sys
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
s3.put_object(Bucket="data", Key="boto/small key+plus.txt", Body=b"from boto3")
assert s3.get_object(Bucket="data", Key="boto/small key+plus.txt")["Body"].read() == b"from boto3"
data = os.urandom(12 * 1024 * 1024)
path = os.path.join(sys.argv[2], "boto.bin")
open(path, "wb").write(data)
s3.upload_file(path, "data", "boto/multi.bin",
               Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
got = s3.get_object(Bucket="data", Key="boto/multi.bin")["Body"].read()
assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), "multipart bytes differ"
keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="data", Prefix="boto/")["Contents"])
print(",".join(keys))
print(s3.head_object(Bucket="data", Key="boto/multi.bin")["ETag"])
`;
      const { stdout } = await run(PYTHON, ["-c", script, stack.endpoint, dir], { env });
      const [keys, etag] = stdout.trim().split("\n");
      assert.equal(keys, "boto/multi.bin,boto/small key+plus.txt");
      assert.match(etag ?? "", multipartEtag(3));
    });
  });
}
