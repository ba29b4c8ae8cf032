// `npm publish` guard (prepublishOnly): refuse to publish unless every
// prebuild of scripts/prebuild-targets.mjs is there, built from the current
// sources, and within the glibc floor, since users' installs would otherwise
// need CMake and a compiler (or fail to load). scripts/test-prebuilds.mjs runs
// the same checks first.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { floorProblems, floorSummary } from './prebuild-symbols.mjs';
import { TARGETS, prebuildPath, root, staleReason } from './prebuild-targets.mjs';

/** One line per prebuild that is missing, stale or above the floor; [] when all are fine. */
export function prebuildProblems({ log = () => {} } = {}) {
  const problems = [];
  for (const target of TARGETS) {
    const path = prebuildPath(target);
    const stale = staleReason(target);
    if (stale !== undefined) {
      problems.push(`${path}: ${stale === `${path} is missing` ? 'missing' : `stale (${stale})`}`);
      if (stale === `${path} is missing`) continue;
    }
    const floor = floorProblems(join(root, path));
    for (const problem of floor) problems.push(`${path}: ${problem}`);
    if (floor.length === 0) log(`${path}: ${floorSummary(join(root, path))}`);
  }
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const problems = prebuildProblems({ log: (line) => console.log(`check-prebuilds: ${line}`) });
  if (problems.length > 0) {
    for (const problem of problems) console.error(`check-prebuilds: ${problem}`);
    console.error('check-prebuilds: run `npm run prebuild` (it builds every prebuild) and `npm run test:prebuilds` before publishing');
    process.exit(1);
  }
  console.log(`check-prebuilds: ${TARGETS.map(prebuildPath).join(', ')} are current`);
}
