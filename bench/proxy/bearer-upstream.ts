/**
 * The upstream of the IAM scenario, run as a process of its own so that its CPU is counted apart from the
 * bench's: testkit's fake IBM IAM token server and its bearer-checking store (both node:http, in this one
 * process). It stores the scenario's object, then prints one JSON line `{ port, iamUrl, token }` (a token
 * for requests sent to it directly) and runs until SIGTERM.
 *
 * This upstream is a Node server and is the bottleneck of the scenario: its figures compare osp and nginx
 * in front of it with it alone, not osp with nginx's ceiling.
 */
import { request } from "node:http";
import { startBearerCheckingUpstream, startFakeIamServer } from "@osp/testkit";

const objectPath = process.argv[2] ?? "/ibm/1k.bin";
const objectBytes = Number(process.argv[3] ?? 1024);

/** Long enough for any run; osp renews its own token as IBM's clients do, this one is for direct requests. */
const iam = await startFakeIamServer({ tokenLifetimeSeconds: 12 * 3600 });
const upstream = await startBearerCheckingUpstream(iam);

async function post(url: string, body: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => {
        text += c.toString();
      });
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function put(path: string, token: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${upstream.url}${path}`,
      { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-length": body.length } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const answer = JSON.parse(
  await post(iam.url, `grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey=osp-test-api-key`, {
    "content-type": "application/x-www-form-urlencoded",
  }),
) as { access_token?: string };
const token = answer.access_token ?? "";
const status = await put(objectPath, token, Buffer.alloc(objectBytes, 0x69));
if (token === "" || status !== 200) {
  process.stderr.write(
    `bearer upstream: could not seed ${objectPath} (token ${token !== ""}, PUT ${status})\n`,
  );
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ port: upstream.port, iamUrl: iam.url, token })}\n`);

process.once("SIGTERM", () => {
  void Promise.all([upstream.close(), iam.close()]).then(() => process.exit(0));
});
