/**
 * The cold-path principals. With `--cold-source hook` (the default) osp loads this module as its
 * `identity.hook`: every key `BENCHCOLD<7 digits>` exists, its secret derived from the number, one principal
 * per key in group `cold`. So the number of principals has no limit and a key never seen is a miss in
 * every cache osp keeps per key (the credential cache in front of the hook, the signing-key cache).
 * With `--cold-source config` the same keys are listed in the config's `credentials` instead.
 * This module has no imports: it is loaded inside osp.
 */

/** Access key `i` and its secret. */
export function coldKey(i: number): { accessKeyId: string; secretAccessKey: string } {
  const id = String(i).padStart(7, "0");
  return { accessKeyId: `BENCHCOLD${id}`, secretAccessKey: `cold-secret-${id}-abcdefgh` };
}

/** The principal of key `i`. */
export const coldPrincipal = (i: number) => `cold-${i}`;
export const COLD_GROUP = "cold";

/** osp's identity hook: the record of a cold key, null for any other key. */
export function lookupSecret(
  accessKeyId: string,
): { secretAccessKey: string; principal: string; groups: string[] } | null {
  const m = /^BENCHCOLD(\d{7})$/.exec(accessKeyId);
  if (m === null) return null;
  const i = Number(m[1]);
  return { secretAccessKey: coldKey(i).secretAccessKey, principal: coldPrincipal(i), groups: [COLD_GROUP] };
}
