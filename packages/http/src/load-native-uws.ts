import { createRequire } from "node:module";
import type { UwsModule } from "./uws-types.js";

/**
 * The one place uWebSockets.js is loaded. The package falls back to a slow pure-JS implementation, with only
 * a console warning, when its `.node` binary does not load (wrong Node ABI, glibc too old, `UWS_USE_FALLBACK`
 * set): osp must refuse to run on that (docs/architecture.md "Dependencies").
 */

/** Thrown when uWebSockets.js is missing, fails to load, or is its JS fallback. */
export class NativeUwsError extends Error {
  readonly code = "OSP_HTTP_NATIVE_UWS";
  override readonly name = "NativeUwsError";
}

// The exports every native build has and the fallback either lacks (SSLApp, _cfg is a no-op arrow) or
// implements in JavaScript.
const NATIVE_EXPORTS = ["App", "SSLApp", "us_listen_socket_close", "us_socket_local_port", "_cfg"] as const;

/**
 * Why `mod` is not the native uWS addon, or `null` when it is. Pure: tests hand it fake module shapes.
 * A function is native when V8 prints its source as `[native code]` and it is not a bound JS function
 * (those print the same way).
 */
export function describeNonNativeUws(mod: unknown): string | null {
  if (mod === null || (typeof mod !== "object" && typeof mod !== "function")) {
    return "the module exports no object";
  }
  const exports = mod as Record<string, unknown>;
  for (const name of NATIVE_EXPORTS) {
    const fn = exports[name];
    if (typeof fn !== "function") return `it has no function ${name}`;
    if (!isNativeFunction(fn)) return `${name} is JavaScript, not native code`;
  }
  return null;
}

function isNativeFunction(fn: { readonly name: string }): boolean {
  return (
    /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(fn)) && !fn.name.startsWith("bound ")
  );
}

let loaded: UwsModule | null = null;

/** The native uWS module, loaded once; throws `NativeUwsError` rather than return the fallback. */
export function loadNativeUws(): UwsModule {
  if (loaded !== null) return loaded;
  let mod: unknown;
  try {
    mod = createRequire(import.meta.url)("uWebSockets.js");
  } catch (err) {
    throw new NativeUwsError(
      `uWebSockets.js failed to load: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
  const problem = describeNonNativeUws(mod);
  if (problem !== null) {
    throw new NativeUwsError(
      `uWebSockets.js is its slow pure-JS fallback (${problem}): the native binary for Node ${process.version} ` +
        `(${process.platform}-${process.arch}, ABI ${process.versions.modules}) did not load, or UWS_USE_FALLBACK ` +
        "is set. osp refuses to start on it: run Node 20 on glibc >= 2.36 with " +
        "@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0 (see the warning uWS printed above for the cause).",
    );
  }
  loaded = mod as UwsModule;
  return loaded;
}

/** Throws a `NativeUwsError` with a clear message when the loaded uWS is the JS fallback or fails to load. */
export function assertNativeUws(): void {
  loadNativeUws();
}
