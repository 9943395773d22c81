/**
 * The query string osp sends upstream: the parameters `upstreamQueryFor` (@osp/s3) allowed, each re-encoded
 * canonically in received order. A valueless parameter (`?uploads`) stays valueless.
 */
import { uriEncode } from "@osp/sigv4";

/** `params` are decoded `[name, value | null]` pairs. */
export function encodeQuery(params: ReadonlyArray<readonly [string, string | null]>): string {
  let out = "";
  for (const [name, value] of params) {
    if (out !== "") out += "&";
    out += uriEncode(name, false);
    if (value !== null) out += `=${uriEncode(value, false)}`;
  }
  return out;
}
