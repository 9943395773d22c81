/**
 * Who signed a request: the types every credential source returns and the authorization facts carry. They
 * import nothing, so the sources, the cache namespaces and the authorization rules can all depend on them.
 */

export interface Principal {
  readonly name: string;
  readonly groups: readonly string[];
}

export interface ClientCredential {
  readonly accessKeyId: string;
  /** Only the verifier reads it, to derive signing keys; it is never logged or sent anywhere. */
  readonly secretAccessKey: string;
  readonly principal: Principal;
}

/** Looks up an access key; `null` = unknown (InvalidAccessKeyId). May be sync or async. */
export interface CredentialSource {
  lookup(accessKeyId: string): ClientCredential | null | Promise<ClientCredential | null>;
}
