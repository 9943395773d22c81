import assert from "node:assert/strict";
import { test } from "node:test";
import { optionValue } from "../src/options.js";

test("reads `--name VALUE` and `--name=VALUE`", () => {
  assert.equal(optionValue(["serve", "--config", "a.yaml"], "--config"), "a.yaml");
  assert.equal(optionValue(["serve", "--config=a.yaml"], "--config"), "a.yaml");
  assert.equal(optionValue(["--port", "9000", "--config", "b.yaml"], "--port"), "9000");
});

test("an `=` form keeps everything after the first `=`, empty included", () => {
  assert.equal(optionValue(["--secret=a=b=c"], "--secret"), "a=b=c");
  assert.equal(optionValue(["--groups="], "--groups"), "");
});

test("is null when the option is absent, or last with no value", () => {
  assert.equal(optionValue(["serve"], "--config"), null);
  assert.equal(optionValue([], "--config"), null);
  assert.equal(optionValue(["serve", "--config"], "--config"), null);
});

test("matches the whole name only", () => {
  assert.equal(optionValue(["--configuration", "x"], "--config"), null);
  assert.equal(optionValue(["--configuration=x"], "--config"), null);
  assert.equal(optionValue(["--config-file=x"], "--config"), null);
});

test("the separate form wins over a later `=` form, as the commands read it", () => {
  assert.equal(optionValue(["--config=first.yaml", "--config", "second.yaml"], "--config"), "second.yaml");
});
