/**
 * The branch a builder builds. CPython names builders `<platform> <branch>` and tags them with the
 * branch (`3.x`, `3.14`, `PR`, `custom`); a tag that looks like a branch wins, then the name suffix.
 */
const BRANCH_LIKE = /^(\d+\.(x|\d+)|main|master|trunk|PR|custom)$/i;

export function builderBranch(name: string, tags: readonly string[]): string | undefined {
  const tag = tags.find((t) => BRANCH_LIKE.test(t));
  if (tag) return tag;
  const suffix = name.trim().split(/\s+/).pop();
  return suffix && BRANCH_LIKE.test(suffix) ? suffix : undefined;
}

/** Whether a builder belongs to `branch`: it carries the tag, or its name ends with it. */
export function onBranch(name: string, tags: readonly string[], branch: string): boolean {
  const lower = branch.toLowerCase();
  return tags.some((t) => t.toLowerCase() === lower) || name.toLowerCase().endsWith(` ${lower}`);
}
