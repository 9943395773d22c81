import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { errorMessage } from "@osp/errors";

const BEGIN = "-----BEGIN CERTIFICATE-----";
const END = "-----END CERTIFICATE-----";

/**
 * Reads a `caFile` at start-up and checks that it is PEM holding at least one certificate, each of which parses:
 * Node would take any file as `ca` and fail only at the first handshake, with a verification error that does not
 * name the file. Throws `TypeError` naming `where` (the option's key path) and the file.
 */
export function readCaFile(path: string, where: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw new TypeError(`${where}: cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
  const text = pem.toString("latin1");
  let count = 0;
  for (let at = text.indexOf(BEGIN); at >= 0; at = text.indexOf(BEGIN, at + BEGIN.length)) {
    const end = text.indexOf(END, at);
    if (end < 0) throw new TypeError(`${where}: ${path} has a certificate without its END line`);
    try {
      new X509Certificate(text.slice(at, end + END.length));
    } catch (err) {
      throw new TypeError(
        `${where}: certificate ${count + 1} in ${path} does not parse: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    count++;
  }
  if (count === 0)
    throw new TypeError(`${where}: ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return pem;
}
