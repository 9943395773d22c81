import { type IncomingHttpHeaders, type RequestOptions, request } from "node:http";

/** What a test reads of an answer: status, headers and the body as text. */
export interface TextResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Sends one HTTP/1.1 request (`options` as node:http takes them) with `body`, and reads the whole answer. */
export function requestText(options: RequestOptions, body?: Buffer | string): Promise<TextResponse> {
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
