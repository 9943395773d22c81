/**
 * The origin of the upstream-client bench, in its own process: a raw TCP server that answers every request
 * head with a canned response, `/small` 1 KiB, `/big` 1 GiB from one reused 1 MiB buffer. No parsing beyond
 * finding the end of each head, so the client under test is what the bench measures.
 */
import { createServer } from "node:net";

const SMALL = Buffer.concat([
  Buffer.from(
    'HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\netag: "e"\r\ncontent-length: 1024\r\n\r\n',
  ),
  Buffer.alloc(1024, 0x61),
]);
const BIG_BYTES = 2 ** 30;
const BIG_HEAD = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${BIG_BYTES}\r\n\r\n`);
const MIB = Buffer.alloc(2 ** 20, 0x62);

const server = createServer((socket) => {
  socket.setNoDelay(true);
  let pending = "";
  socket.on("error", () => {});
  socket.on("data", (data) => {
    pending += data.toString("latin1");
    for (let end = pending.indexOf("\r\n\r\n"); end >= 0; end = pending.indexOf("\r\n\r\n")) {
      const big = pending.startsWith("GET /big");
      pending = pending.slice(end + 4);
      if (!big) {
        socket.write(SMALL);
        continue;
      }
      socket.write(BIG_HEAD);
      let sent = 0;
      const pump = () => {
        while (sent < BIG_BYTES) {
          sent += MIB.length;
          if (!socket.write(MIB)) return void socket.once("drain", pump);
        }
      };
      pump();
    }
  });
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
