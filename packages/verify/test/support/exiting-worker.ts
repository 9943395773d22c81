/**
 * A pool thread module whose body and signature tasks kill their thread (`process.exit` in a worker thread
 * ends that thread only): what a crash of the real `verify-worker.ts` looks like to the event loop.
 */
export function verifyBody(): never {
  process.exit(1);
}

export function verifyRequest(): never {
  process.exit(1);
}

export function closeBody(): { startedAtMs: number } {
  return { startedAtMs: performance.timeOrigin + performance.now() };
}
