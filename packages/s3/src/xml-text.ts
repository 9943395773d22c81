/**
 * XML 1.0 character data as the gateway's small XML readers (DeleteObjects bodies, stores' ListBuckets
 * answers) decode it: the five predefined entities and character references, nothing else (no DTD, so no
 * other entity can be defined). Pure; linear.
 */

const ENTITIES: ReadonlyMap<string, string> = new Map([
  ["amp", "&"],
  ["lt", "<"],
  ["gt", ">"],
  ["quot", '"'],
  ["apos", "'"],
]);

/**
 * The character a reference stands for, given the text between `&` and `;` (`amp`, `#46`, `#x2E`);
 * undefined when it is no predefined entity, not a well-formed reference, or names a character XML 1.0
 * does not allow (`Char`: no NUL, no other C0 control but tab, LF and CR, no surrogates).
 */
export function decodeXmlReference(ref: string): string | undefined {
  if (ref.charCodeAt(0) !== 0x23 /* # */) return ENTITIES.get(ref);
  const hex = ref.charCodeAt(1) === 0x78; /* x */
  const digits = ref.slice(hex ? 2 : 1);
  if (digits.length === 0 || digits.length > (hex ? 6 : 7)) return undefined;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    const lower = c | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (hex && lower >= 0x61 && lower <= 0x66))) return undefined;
  }
  const n = parseInt(digits, hex ? 16 : 10);
  const allowed =
    n === 0x9 ||
    n === 0xa ||
    n === 0xd ||
    (n >= 0x20 && n <= 0xd7ff) ||
    (n >= 0xe000 && n <= 0xfffd) ||
    (n >= 0x10000 && n <= 0x10ffff);
  return allowed ? String.fromCodePoint(n) : undefined;
}
