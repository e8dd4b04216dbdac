/**
 * Why `text` is not a regular expression bbwatch can use (builder filters are matched
 * case-insensitively), or undefined when it is one. One check for config, chat and stored rules.
 */
export function regexProblem(text: string): string | undefined {
  try {
    new RegExp(text, 'i');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
