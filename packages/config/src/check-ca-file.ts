import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { errorMessage } from "@osp/errors";

const BEGIN = "-----BEGIN CERTIFICATE-----";
const END = "-----END CERTIFICATE-----";

/**
 * Why `path` cannot serve as an endpoint's `caFile`, or null when it is PEM holding at least one certificate and
 * every certificate parses. Checked when the config is compiled: Node would take any file and fail only at the
 * first TLS handshake, with an error that names neither the key nor the file.
 */
export function checkCaFile(path: string): string | null {
  let text: string;
  try {
    text = readFileSync(path, "latin1");
  } catch (err) {
    return `cannot read ${path}: ${errorMessage(err)}`;
  }
  let count = 0;
  for (let at = text.indexOf(BEGIN); at >= 0; at = text.indexOf(BEGIN, at + BEGIN.length)) {
    const end = text.indexOf(END, at);
    if (end < 0) return `${path} has a certificate without its END line`;
    try {
      new X509Certificate(text.slice(at, end + END.length));
    } catch (err) {
      return `certificate ${count + 1} in ${path} does not parse: ${errorMessage(err)}`;
    }
    count++;
  }
  return count === 0 ? `${path} holds no PEM certificate (${BEGIN})` : null;
}
