/**
 * uWS gives IPv6 peers in full uncompressed form (`0000:0000:0000:0000:0000:0000:0000:0001`). Logs and
 * authorization rules want the canonical text of RFC 5952 (`::1`), and IPv4-mapped peers of a dual-stack
 * listener (`::ffff:7f00:1`) as the IPv4 address they are. IPv4 text passes through untouched.
 */
export function formatRemoteAddress(text: string): string {
  if (text.indexOf(":") === -1) return text;
  const groups = text.split(":");
  if (groups.length !== 8) return text;
  const words: number[] = [];
  for (const group of groups) {
    const word = Number.parseInt(group, 16);
    if (!/^[0-9a-fA-F]{1,4}$/.test(group) || Number.isNaN(word)) return text;
    words.push(word);
  }
  if (
    words[0] === 0 &&
    words[1] === 0 &&
    words[2] === 0 &&
    words[3] === 0 &&
    words[4] === 0 &&
    words[5] === 0xffff
  ) {
    const high = words[6]!;
    const low = words[7]!;
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  }
  // RFC 5952 §4.2: shorten the longest run of two or more zero words (the first one on a tie) to "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && words[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart === -1) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}
