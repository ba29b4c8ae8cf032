// Which steps a save prunes: all but the `keep` newest, sparing milestones.
// It decides by step number alone and never reads a file, so a corrupt step
// file counts like any other and ages out the same way.

export interface RetentionPolicy {
  /** Keep this many newest steps (undefined: keep all). */
  keep?: number | undefined;
  /** Steps divisible by this are milestones, never pruned. */
  keepEvery?: number | undefined;
}

/** The steps to delete, given every step present (any order). */
export function stepsToPrune(steps: readonly number[], { keep, keepEvery }: RetentionPolicy): number[] {
  if (keep === undefined) return [];
  const newestFirst = [...steps].sort((a, b) => b - a);
  return newestFirst.slice(keep).filter((step) => keepEvery === undefined || step % keepEvery !== 0);
}
