/** `osp credentials add|remove|list`: client credentials stored in Redis (issue #4; in progress). */
export async function runCredentials(_args: readonly string[]): Promise<number> {
  process.stderr.write("osp credentials: not available yet\n");
  return 2;
}
