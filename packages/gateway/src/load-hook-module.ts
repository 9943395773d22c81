/**
 * Loads an operator's JS hook module (identity, authorization, upstream credentials). Paths are
 * resolved against the config file's directory, so a config and its hooks travel together. A module that
 * does not export the named function is a startup error, never a per-request surprise.
 */

import { statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { errorMessage } from "@osp/errors";

/** Imports `path` and returns its export `name` (a function). Throws an Error naming the file and export. */
export async function loadHookFunction<F extends (...args: never[]) => unknown>(
  path: string,
  name: string,
  configSource: string,
): Promise<{ fn: F; module: Record<string, unknown> }> {
  const base = configSource === "config" ? process.cwd() : dirname(resolve(configSource));
  const file = isAbsolute(path) ? path : resolve(base, path);
  let module: Record<string, unknown>;
  try {
    // ESM caches modules by URL: the file's mtime in the query makes a config reload pick up an edited hook.
    const url = `${pathToFileURL(file).href}?mtime=${statSync(file).mtimeMs}`;
    module = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`hook module ${file}: cannot be loaded: ${errorMessage(err)}`);
  }
  const fn = module[name] ?? (module.default as Record<string, unknown> | undefined)?.[name];
  if (typeof fn !== "function") {
    throw new Error(`hook module ${file}: must export a function named "${name}"`);
  }
  return { fn: fn as F, module };
}
