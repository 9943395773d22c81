/**
 * The client's address for authorization facts and logs. `X-Forwarded-For` (or RFC 7239 `Forwarded`) is
 * believed only when the TCP peer is one of `trustedProxies`, and then read from the right: the first
 * address not itself a trusted proxy is the client (what nginx's realip module does with
 * `real_ip_recursive on`). Anyone else's forwarded headers are ignored, so a client cannot pick its own IP.
 */
import { BlockList, isIP } from "node:net";

export type SourceIpResolver = (peer: string, headers: ReadonlyArray<readonly [string, string]>) => string;

/** `trustedProxies`: IPs or CIDRs (v4 or v6). Throws TypeError for an entry that is neither. */
export function createSourceIpResolver(trustedProxies: readonly string[]): SourceIpResolver {
  if (trustedProxies.length === 0) return (peer) => peer;
  const trusted = new BlockList();
  for (const entry of trustedProxies) {
    const [address = "", bits] = entry.split("/");
    const family = isIP(address);
    if (family === 0) throw new TypeError(`trustedProxies: "${entry}" is not an IP address or CIDR`);
    const type = family === 4 ? "ipv4" : "ipv6";
    if (bits === undefined) trusted.addAddress(address, type);
    else trusted.addSubnet(address, Number(bits), type);
  }
  const isTrusted = (ip: string): boolean => {
    const family = isIP(ip);
    return family !== 0 && trusted.check(ip, family === 4 ? "ipv4" : "ipv6");
  };
  return (peer, headers) => {
    if (!isTrusted(peer)) return peer;
    const chain = forwardedChain(headers);
    for (let i = chain.length - 1; i >= 0; i--) {
      const hop = chain[i]!;
      if (isIP(hop) === 0) return peer; // garbage in the chain: trust nothing from it
      if (!isTrusted(hop)) return hop;
    }
    return chain[0] ?? peer;
  };
}

/** Addresses from X-Forwarded-For (all of them, in order) or, failing that, Forwarded `for=`. */
function forwardedChain(headers: ReadonlyArray<readonly [string, string]>): string[] {
  const xff: string[] = [];
  const forwarded: string[] = [];
  for (const [name, value] of headers) {
    if (name === "x-forwarded-for") for (const part of value.split(",")) xff.push(part.trim());
    else if (name === "forwarded") {
      for (const element of value.split(",")) {
        const match = /(?:^|;)\s*for=("?)\[?([^\]";]+)\]?(?::\d+)?\1/i.exec(element);
        if (match !== null) forwarded.push(match[2]!.trim());
      }
    }
  }
  return xff.length > 0 ? xff : forwarded;
}
