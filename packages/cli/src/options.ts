/** `--name VALUE` or `--name=VALUE` from a command line; `null` when absent. */
export function optionValue(args: readonly string[], name: string): string | null {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1] ?? null;
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline === undefined ? null : inline.slice(name.length + 1);
}
