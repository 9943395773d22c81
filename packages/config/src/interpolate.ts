/**
 * `${NAME}` in any string value of the YAML is replaced by the environment variable NAME, so secrets stay
 * out of the file. `$${` escapes a literal `${`. A missing variable is a config problem (reported with the
 * key path), never an empty string: an empty secret would fail far from its cause.
 */
export interface InterpolationProblem {
  readonly path: string;
  readonly message: string;
}

export function interpolateEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  problems: InterpolationProblem[],
  path = "",
): unknown {
  if (typeof value === "string") {
    return value.replace(/\$(\$?)\{([^}]*)\}/g, (whole, escaped: string, name: string) => {
      if (escaped === "$") return whole.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        problems.push({ path, message: `"\${${name}}" is not a valid environment variable reference` });
        return "";
      }
      const found = env[name];
      if (found === undefined) {
        problems.push({ path, message: `environment variable ${name} is not set` });
        return "";
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, problems, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] = interpolateEnv(v, env, problems, path ? `${path}.${k}` : k);
    return out;
  }
  return value;
}
