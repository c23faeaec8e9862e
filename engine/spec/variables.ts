export type Environment = Readonly<Record<string, string | undefined>>;

export interface Substitution {
  value: string;
  /** Whether any `${NAME}` was replaced. */
  substituted: boolean;
  /** Each problem names the reference as written, so that it can be found in the source text. */
  problems: { reference: string; message: string }[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces every `${NAME}` in `text` by the environment variable NAME; `$${` stands for a literal `${`.
 * A variable that is not set is a problem (an empty one is a value); so is a reference that is not `${NAME}`.
 */
export function substituteVariables(text: string, env: Environment): Substitution {
  const result: Substitution = { value: "", substituted: false, problems: [] };
  let i = 0;
  while (i < text.length) {
    if (text.startsWith("$${", i)) {
      result.value += "${";
      i += 3;
    } else if (text.startsWith("${", i)) {
      const end = text.indexOf("}", i + 2);
      const reference = end < 0 ? text.slice(i) : text.slice(i, end + 1);
      const name = end < 0 ? "" : text.slice(i + 2, end);
      if (end < 0 || !NAME.test(name)) {
        result.problems.push({
          reference,
          message:
            "invalid variable reference: write ${NAME} (letters, digits and _) or $${ for a literal ${",
        });
      } else if (env[name] === undefined) {
        result.problems.push({ reference, message: `environment variable ${name} is not set` });
      } else {
        result.value += env[name];
        result.substituted = true;
      }
      i = end < 0 ? text.length : end + 1;
    } else {
      result.value += text[i];
      i += 1;
    }
  }
  return result;
}
