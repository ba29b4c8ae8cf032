// What a source adds to a DataLoader's fingerprint (MixedSource: its sources
// and weights), and how it judges a saved one. A source registers it here;
// the DataLoader asks for it, puts `value` in its state's fingerprint as
// `source`, and refuses a state whose `check` names differences.
import type { State } from '../iterator/state.js';

export interface SourceFingerprint {
  /** What a loader's state records about the source (plain data). */
  readonly value: State;
  /**
   * The fields of a saved value that differ from this source's (none: it
   * resumes), and whether the saved loader's record count may differ from
   * this one's (a mix whose weights may change changes its length).
   */
  check(saved: unknown): { differing: string[]; lengthMayChange: boolean };
}

const fingerprints = new WeakMap<object, SourceFingerprint>();

export function setSourceFingerprint(source: object, fingerprint: SourceFingerprint): void {
  fingerprints.set(source, fingerprint);
}

export function sourceFingerprintOf(source: object): SourceFingerprint | undefined {
  return fingerprints.get(source);
}
