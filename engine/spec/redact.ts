import type { SpecPath } from "./path.js";

export const REDACTED = "****";

/**
 * A connection string with its password replaced by `****`, whether given in the URL's user info, as a
 * `password=` query parameter, or in libpq's `key=value` form. Errs on the side of hiding too much: everything
 * between `://` and the last `@` is treated as user info.
 */
export function redactConnectionString(text: string): string {
  let redacted = text;
  const schemeEnd = redacted.indexOf("://");
  const at = redacted.lastIndexOf("@");
  if (schemeEnd >= 0 && at > schemeEnd) {
    const userInfo = redacted.slice(schemeEnd + 3, at);
    const colon = userInfo.indexOf(":");
    if (colon >= 0) {
      redacted = `${redacted.slice(0, schemeEnd + 3)}${userInfo.slice(0, colon + 1)}${REDACTED}${redacted.slice(at)}`;
    }
  }
  return redacted
    .replace(/([?&]password=)[^&#]*/gi, `$1${REDACTED}`)
    .replace(/(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, `$1${REDACTED}`);
}

/** Values under these paths may hold a password: a connection URL, or a connection object's `password`. */
function isSecretPath(path: SpecPath): boolean {
  const [top] = path;
  if (top !== "source" && top !== "destination") return false;
  return path.length === 1 || path[path.length - 1] === "password";
}

const MAX_SHOWN = 60;

/** A value as quoted in a message (`"fast"`, `0`, `a list`), never showing a password. */
export function showValue(value: unknown, path: SpecPath): string {
  if (typeof value === "string") {
    if (isSecretPath(path)) {
      if (path.length > 1) return "a string";
      if (!/^postgres(ql)?:\/\//i.test(value)) return "a string that is not a postgres:// URL";
      return quote(redactConnectionString(value));
    }
    return quote(value);
  }
  if (value === null) return "an empty value (null)";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (isSecretPath(path)) return `a ${typeof value}`;
  return String(value);
}

/** A value with its type, for type mismatches: `string "two"`, `number 2.5`, `a list`. */
export function showTypedValue(value: unknown, path: SpecPath): string {
  const shown = showValue(value, path);
  if (typeof value === "string" && shown.startsWith('"')) return `string ${shown}`;
  if ((typeof value === "number" || typeof value === "boolean") && !shown.startsWith("a ")) {
    return `${typeof value} ${shown}`;
  }
  return shown;
}

function quote(text: string): string {
  const shortened = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
  return JSON.stringify(shortened);
}
