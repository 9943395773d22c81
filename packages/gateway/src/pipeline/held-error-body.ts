/**
 * A store's 403 is read whole before the client sees it: when it says the store refused osp's own credentials
 * (SignatureDoesNotMatch, InvalidAccessKeyId), its body names the upstream access key and the string osp signed,
 * which are the gateway's business, not the client's. The client then gets an InternalError of its own; any
 * other 403 (AccessDenied, a retention lock…) passes through byte for byte.
 */

/** Larger or unframed 403 bodies stream through unread (S3 error documents are well under 1 KiB). */
const MAX_HELD_BYTES = 16 * 1024;
const CREDENTIAL_CODES = new Set(["SignatureDoesNotMatch", "InvalidAccessKeyId"]);
export const REFUSED_CREDENTIALS = "The upstream object store refused the gateway's credentials.";

export class HeldErrorBody {
  readonly headers: Array<[string, string]>;
  readonly #chunks: Buffer[] = [];

  constructor(headers: Array<[string, string]>) {
    this.headers = headers;
  }

  /** Whether a response of this status and Content-Length is held. */
  static wanted(method: string, status: number, length: number | null): boolean {
    return status === 403 && method !== "HEAD" && length !== null && length <= MAX_HELD_BYTES;
  }

  /** Keeps a copy (the upstream client's chunks are views of its read buffer). */
  push(chunk: Buffer): void {
    this.#chunks.push(Buffer.from(chunk));
  }

  get body(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  /** The store's error code when it refused osp's credentials, otherwise null. */
  refusedCredentials(): string | null {
    const code = /<Code>([^<]{1,64})<\/Code>/.exec(this.body.toString("utf8"))?.[1];
    return code !== undefined && CREDENTIAL_CODES.has(code) ? code : null;
  }
}
