/**
 * `compileConfig()` turns YAML text into the frozen, validated configuration every other package reads.
 * All problems are collected and reported at once, each with its key path; nothing outside this package
 * reads `process.env`.
 */

import { readFileSync } from "node:fs";
import { errorMessage } from "@osp/errors";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { checkBucketKeys } from "./check-bucket-keys.js";
import { checkCaFile } from "./check-ca-file.js";
import { type InterpolationProblem, interpolateEnv } from "./interpolate.js";
import { configSchema, type RawConfig } from "./schema.js";

export interface ConfigProblem {
  /** Dotted key path, e.g. `endpoints.local.auth.secretAccessKey`. */
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(source: string, problems: readonly ConfigProblem[]) {
    super(
      `${source}: ${problems.length} problem(s)\n${problems.map((p) => `  ${p.path || "(root)"}: ${p.message}`).join("\n")}`,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export type Config = DeepReadonly<RawConfig> & { readonly source: string };
type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** Reads and compiles a config file. Throws `ConfigError` listing every problem. */
export function loadConfigFile(
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Config {
  return readConfigFile(file, env).config;
}

/**
 * Reads and compiles a config file, and returns the text it compiled too (the primary hands exactly that text
 * to its workers). Throws `ConfigError`: the file cannot be read (one problem at the root), or every problem
 * of its contents.
 */
export function readConfigFile(
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): { readonly text: string; readonly config: Config } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, [{ path: "", message: `cannot read file: ${errorMessage(err)}` }]);
  }
  return { text, config: compileConfig(text, file, env) };
}

/** Compiles YAML text (see deploy/config/osp.example.yaml for every key). Throws `ConfigError`. */
export function compileConfig(
  text: string,
  source = "config",
  env: Readonly<Record<string, string | undefined>> = process.env,
): Config {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: "", message: `YAML: ${e.message.split("\n")[0]}` })),
    );
  }
  const envProblems: InterpolationProblem[] = [];
  const data = interpolateEnv(doc.toJS() ?? {}, env, envProblems);
  const parsed = configSchema.safeParse(data);
  const problems: ConfigProblem[] = [...envProblems];
  if (!parsed.success) problems.push(...parsed.error.issues.flatMap((issue) => describeIssue(issue, data)));
  else problems.push(...crossCheck(parsed.data));
  if (problems.length > 0) throw new ConfigError(source, problems);
  return deepFreeze({ ...(parsed.data as RawConfig), source }) as Config;
}

/** Checks that span several keys: references between sections, duplicates. */
function crossCheck(config: RawConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const endpointNames = Object.keys(config.endpoints);
  for (const [name, bucket] of Object.entries(config.buckets)) {
    if (!(bucket.endpoint in config.endpoints)) {
      problems.push({
        path: `buckets.${name}.endpoint`,
        message: `unknown endpoint "${bucket.endpoint}"${suggest(bucket.endpoint, endpointNames)}; defined: ${endpointNames.join(", ") || "none"}`,
      });
    }
  }
  problems.push(...checkBucketKeys(config));
  for (const [name, endpoint] of Object.entries(config.endpoints)) {
    const problem = endpoint.caFile === undefined ? null : checkCaFile(endpoint.caFile);
    if (problem !== null) problems.push({ path: `endpoints.${name}.caFile`, message: problem });
  }
  const seen = new Map<string, number>();
  config.credentials.forEach((c, i) => {
    const first = seen.get(c.accessKeyId);
    if (first !== undefined) {
      problems.push({ path: `credentials[${i}].accessKeyId`, message: `duplicates credentials[${first}]` });
    } else seen.set(c.accessKeyId, i);
  });
  config.authorization.rules.forEach((r, i) => {
    if (r.principal === undefined && r.principals === undefined && r.groups === undefined) {
      problems.push({
        path: `authorization.rules[${i}]`,
        message: 'names no principal, principals or groups (use principal: "*" for everyone)',
      });
    }
    // Unsigned requests may only read and list (README "Public reads"): a typo must not open a bucket to writes.
    const anonymous = r.principal === ANONYMOUS || (r.principals ?? []).includes(ANONYMOUS);
    const granted = r.actions.filter((a) => a !== "read" && a !== "list");
    if (anonymous && r.effect === "allow" && granted.length > 0) {
      problems.push({
        path: `authorization.rules[${i}].actions`,
        message: `grants ${granted.join(", ")} to anonymous; unsigned requests may only be granted read and list`,
      });
    }
  });
  config.credentials.forEach((c, i) => {
    if (c.principal === ANONYMOUS) {
      problems.push({
        path: `credentials[${i}].principal`,
        message: '"anonymous" is reserved for unsigned requests',
      });
    }
  });
  return problems;
}

/** The principal of unsigned requests, granted only by rules that name it. */
const ANONYMOUS = "anonymous";

function describeIssue(issue: z.core.$ZodIssue, data: unknown): ConfigProblem[] {
  const path = formatPath(issue.path);
  if (issue.code === "unrecognized_keys") {
    const allowed = allowedKeysAt(issue.path);
    return issue.keys.map((key) => ({
      path: path ? `${path}.${key}` : key,
      message: `unknown key${suggest(key, allowed)}${allowed.length > 0 ? `; allowed: ${allowed.join(", ")}` : ""}`,
    }));
  }
  if (issue.code === "invalid_type" && valueAt(data, issue.path) === undefined) {
    return [{ path, message: "is required" }];
  }
  if (issue.code === "invalid_union" && "discriminator" in issue) {
    return [{ path, message: `${issue.message}` }];
  }
  return [{ path, message: issue.message }];
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

/** The keys the schema allows for the object at `path`, for "did you mean" suggestions. */
function allowedKeysAt(path: readonly PropertyKey[]): string[] {
  // biome-ignore lint/suspicious/noExplicitAny: walking zod's internal definitions generically
  let schema: any = configSchema;
  for (const part of path) {
    schema = unwrap(schema);
    if (schema?.def?.type === "object") schema = schema.def.shape[part as string];
    else if (schema?.def?.type === "record") schema = schema.def.valueType;
    else if (schema?.def?.type === "array") schema = schema.def.element;
    else if (schema?.def?.type === "union") {
      schema = schema.def.options.find((o: { def?: { type?: string } }) => unwrap(o)?.def?.type === "object");
      schema = unwrap(schema)?.def?.shape?.[part as string];
    } else return [];
  }
  schema = unwrap(schema);
  if (schema?.def?.type === "object") return Object.keys(schema.def.shape);
  if (schema?.def?.type === "union") {
    const keys = new Set<string>();
    for (const o of schema.def.options) for (const k of Object.keys(unwrap(o)?.def?.shape ?? {})) keys.add(k);
    return [...keys];
  }
  return [];
}

/** Every key path of the schema (`listen.port`, `endpoints.*.auth.apiKey`, `credentials[].principal`…). */
export function configKeyPaths(): string[] {
  const paths: string[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: see allowedKeysAt
  const walk = (node: any, path: string): void => {
    const s = unwrap(node);
    const type = s?.def?.type;
    if (type === "object") {
      for (const [key, child] of Object.entries(s.def.shape)) {
        const at = path === "" ? key : `${path}.${key}`;
        paths.push(at);
        walk(child, at);
      }
    } else if (type === "record") walk(s.def.valueType, `${path}.*`);
    else if (type === "array") walk(s.def.element, `${path}[]`);
    else if (type === "union") for (const o of s.def.options) walk(o, path);
  };
  walk(configSchema, "");
  return paths;
}

// biome-ignore lint/suspicious/noExplicitAny: see allowedKeysAt
function unwrap(schema: any): any {
  let s = schema;
  for (let i = 0; i < 10 && s?.def; i++) {
    const t = s.def.type;
    if (t === "optional" || t === "default" || t === "prefault" || t === "nullable") s = s.def.innerType;
    else if (t === "pipe") s = s.def.in;
    else break;
  }
  return s;
}

/** ` (did you mean "x"?)` when a known name is within edit distance 2. */
function suggest(word: string, known: readonly string[]): string {
  let best: string | null = null;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best === null ? "" : ` (did you mean "${best}"?)`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
