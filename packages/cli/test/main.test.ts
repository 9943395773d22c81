import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HELP } from "../src/main.js";
import { minimalYaml, runOsp, writeConfig } from "./run-osp.js";

describe("osp with no command or --help", () => {
  test("no command prints the help and exits 2 (a usage error)", () => {
    const r = runOsp([]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, HELP);
  });

  for (const flag of ["--help", "-h", "help"]) {
    test(`${flag} prints the help and exits 0`, () => {
      const r = runOsp([flag]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, HELP);
      assert.equal(r.stderr, "");
    });
  }

  test("an unknown command names it on stderr, with the help, and exits 2", () => {
    const r = runOsp(["sevre", "--config", "x.yaml"]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.ok(r.stderr.startsWith('osp: unknown command "sevre"\n'), r.stderr);
    assert.ok(r.stderr.includes(HELP));
  });
});

describe("osp check-config", () => {
  test("accepts a valid file, given bare or as --config, and counts what it holds", () => {
    const file = writeConfig(minimalYaml());
    for (const args of [[file], ["--config", file], [`--config=${file}`]]) {
      const r = runOsp(["check-config", ...args]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${file}: ok (1 endpoints, 1 buckets, 1 credentials)\n`);
    }
  });

  test("without a file prints its usage and exits 2", () => {
    const r = runOsp(["check-config"]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "usage: osp check-config FILE\n");
  });

  test("a missing file is a config problem: exit 1, the file named", () => {
    const file = writeConfig("").replace(/osp\.yaml$/, "absent.yaml");
    const r = runOsp(["check-config", file]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /absent\.yaml/);
    assert.match(r.stderr, /cannot read file/);
  });

  test("prints every problem of a bad file, each with its path, and exits 1", () => {
    const file = writeConfig(`${minimalYaml()}listen: { port: not-a-port }\nbogusKey: 1\n`);
    const r = runOsp(["check-config", file]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    const [first, ...problems] = r.stderr.trimEnd().split("\n");
    assert.equal(first, `${file}: 2 problem(s)`);
    assert.deepEqual(
      problems.map((p) => p.trim().split(":")[0]),
      ["listen.port", "bogusKey"],
    );
  });

  test("names an unknown endpoint a bucket refers to", () => {
    const yaml = minimalYaml().replace("data: { endpoint: local }", "data: { endpoint: nowhere }");
    const r = runOsp(["check-config", writeConfig(yaml)]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /buckets\.data\.endpoint: .*"nowhere"/);
  });
});

describe("osp serve", () => {
  test("without --config prints its usage and exits 2", () => {
    for (const args of [[], ["config.yaml"], ["--config"]]) {
      const r = runOsp(["serve", ...args]);
      assert.equal(r.status, 2, `serve ${args.join(" ")}`);
      assert.equal(r.stderr, "usage: osp serve --config FILE\n");
    }
  });

  test("refuses an unknown OSP_LOG_LEVEL before reading the config, with exit 2", () => {
    const r = runOsp(["serve", "--config", "never-read.yaml"], { OSP_LOG_LEVEL: "loud" });
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /^osp: OSP_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"\n$/,
    );
  });

  test("a missing config file exits 1 with the problem, before starting anything", () => {
    const file = writeConfig("").replace(/osp\.yaml$/, "absent.yaml");
    const r = runOsp(["serve", "--config", file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /absent\.yaml/);
    assert.match(r.stderr, /cannot read file/);
  });

  test("a config with problems exits 1 with them, before starting anything", () => {
    const r = runOsp(["serve", "--config", writeConfig(`${minimalYaml()}listen: { port: 70000 }\n`)]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /listen\.port/);
  });
});
