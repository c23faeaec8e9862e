/**
 * Every password the CLI has seen (in flags, in the environment's connection URLs, in the loaded spec), so that
 * no text leaves the process with one in it. The engine already redacts what it reports; this is the second
 * line of defence, applied to every byte the CLI writes.
 */
const MIN_LENGTH = 4;

export class Secrets {
  private readonly values = new Set<string>();

  add(secret: string | undefined): void {
    if (secret === undefined) return;
    // A one- to three-character password would turn every occurrence of those letters into `****` and make the
    // output unreadable; such passwords are left to the engine's redaction, which knows where they can appear.
    if (secret.length < MIN_LENGTH) return;
    this.values.add(secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) this.values.add(encoded);
  }

  /** Registers the password of a `postgres://user:password@host/db` URL, if it has one. */
  addFromUrl(text: string | undefined): void {
    if (text === undefined) return;
    const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(text);
    const userInfo = match?.[1];
    if (userInfo === undefined) return;
    const colon = userInfo.indexOf(":");
    if (colon < 0) return;
    const raw = userInfo.slice(colon + 1);
    this.add(raw);
    try {
      this.add(decodeURIComponent(raw));
    } catch {
      // Not valid percent-encoding: the raw form is registered already.
    }
  }

  redact(text: string): string {
    let result = text;
    // Longest first, so that a secret containing another one is replaced whole.
    for (const secret of [...this.values].sort((a, b) => b.length - a.length)) {
      result = result.replaceAll(secret, "****");
    }
    return result;
  }

  /** A copy of a JSON-like value with every string redacted: the JSON stays valid. */
  redactValue<T>(value: T): T {
    if (this.values.size === 0) return value;
    return JSON.parse(JSON.stringify(value), (_key, item: unknown) =>
      typeof item === "string" ? this.redact(item) : item,
    ) as T;
  }
}
