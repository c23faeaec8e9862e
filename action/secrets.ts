/**
 * Secrets the Action has seen: each one is registered with the runner's log masking (`::add-mask::`) the moment
 * it is known, and kept so that text the Action writes itself (log lines, annotations, the summary, outputs) can
 * be scrubbed too — the masking only happens on GitHub's side, and summaries and outputs are files.
 */
export class Secrets {
  private readonly values = new Set<string>();

  constructor(private readonly mask: (value: string) => void) {}

  add(value: string | undefined): void {
    if (value === undefined || value === "" || this.values.has(value)) return;
    this.values.add(value);
    this.mask(value);
  }

  /** A password as typed and as it appears percent-encoded in a URL. */
  addPassword(password: string | undefined): void {
    if (password === undefined || password === "") return;
    this.add(password);
    this.add(encodeURIComponent(password));
  }

  /** A connection URL, and every form of the password inside it. */
  addConnectionUrl(url: string): void {
    this.add(url);
    for (const password of passwordsInUrl(url)) this.add(password);
  }

  /** `text` with every known secret replaced by `***` (the runner's own mask), longest first. */
  scrub(text: string): string {
    let result = text;
    for (const secret of [...this.values].sort((a, b) => b.length - a.length)) {
      result = result.replaceAll(secret, "***");
    }
    return result;
  }

  /** A copy of a JSON value whose strings are scrubbed. */
  scrubDeep<T>(value: T): T {
    if (typeof value === "string") return this.scrub(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => this.scrubDeep(item)) as T;
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, this.scrubDeep(item as unknown)]),
      ) as T;
    }
    return value;
  }
}

/**
 * The passwords of a connection URL, as written, decoded and re-encoded: from its user info, and from a
 * `password=` query parameter. A text that `URL` cannot parse is treated as user info up to its last `@`, so that a malformed URL
 * with an unencoded `@` in the password is still masked.
 */
export function passwordsInUrl(text: string): string[] {
  const found: string[] = [];
  const keep = (raw: string | null | undefined) => {
    if (!raw) return;
    found.push(raw);
    try {
      const decoded = decodeURIComponent(raw);
      found.push(decoded, encodeURIComponent(decoded));
    } catch {
      // A malformed %-sequence: the raw form is all there is.
    }
  };
  try {
    const url = new URL(text);
    keep(url.password);
    keep(url.searchParams.get("password"));
  } catch {
    const userInfo = /^[a-z][a-z0-9+.-]*:\/\/(.*)@$/is.exec(text.slice(0, text.lastIndexOf("@") + 1))?.[1];
    const colon = userInfo?.indexOf(":") ?? -1;
    if (userInfo !== undefined && colon >= 0) keep(userInfo.slice(colon + 1));
    keep(/[?&]password=([^&#]*)/i.exec(text)?.[1]);
  }
  return [...new Set(found)];
}
