// What a Linux prebuild asks of the system it loads on, read from the file
// itself with objdump (binutils): the versioned symbols it imports and the
// libraries it needs. floorProblems() lists every need above FLOOR
// (scripts/prebuild-targets.mjs); an empty list means it loads on glibc 2.28.
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { FLOOR } from './prebuild-targets.mjs';

/** Compares dotted versions numerically: -1, 0 or 1. */
export function compareVersions(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

function objdump(args, file) {
  try {
    return execFileSync('objdump', [...args, file], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (error.code === 'ENOENT') throw new Error('objdump is not on PATH (Debian/Ubuntu: apt-get install binutils)');
    throw new Error(`objdump ${args.join(' ')} ${file} failed: ${String(error.stderr ?? error.message).trim()}`);
  }
}

/**
 * The imports of a shared object: `symbols` as { name, family, version } for
 * every undefined dynamic symbol with a version (family GLIBC, GLIBCXX,
 * CXXABI or GCC), and `needed`, its DT_NEEDED libraries.
 */
export function readImports(file) {
  const symbols = [];
  for (const line of objdump(['-T'], file).split('\n')) {
    if (!line.includes('*UND*')) continue;
    const match = /\(?\b(GLIBC|GLIBCXX|CXXABI|GCC)_([0-9][0-9.]*)\)?\s+(\S+)\s*$/.exec(line);
    if (match) symbols.push({ family: match[1], version: match[2], name: match[3] });
  }
  const needed = [...objdump(['-p'], file).matchAll(/^\s*NEEDED\s+(\S+)/gm)].map((m) => m[1]);
  return { symbols, needed };
}

/** Every need of the file above the floor, as readable lines; [] when it has none. */
export function floorProblems(file) {
  const { symbols, needed } = readImports(file);
  const problems = [];
  const cxx = symbols.filter((s) => s.family === 'GLIBCXX' || s.family === 'CXXABI');
  if (cxx.length > 0) {
    const highestOf = (family) => cxx.filter((s) => s.family === family).map((s) => s.version).sort(compareVersions).pop();
    const highest = ['GLIBCXX', 'CXXABI'].filter((f) => highestOf(f) !== undefined).map((f) => `${f}_${highestOf(f)}`);
    problems.push(`${cxx.length} symbols from the system's libstdc++ (up to ${highest.join(', ')}), e.g. ${cxx[0].name}: link it statically`);
  }
  for (const { family, version, name } of symbols) {
    if (family in FLOOR && compareVersions(version, FLOOR[family]) > 0) {
      problems.push(`${name}@${family}_${version}: newer than ${family}_${FLOOR[family]}`);
    }
  }
  for (const library of needed) {
    if (/^libstdc\+\+/.test(library)) problems.push(`NEEDED ${library}: the prebuild must not load the system's libstdc++`);
  }
  return problems;
}

/** The highest version of each family the file imports, e.g. { GLIBC: '2.25', GCC: '4.2.0' }. */
export function highestVersions(file) {
  const highest = {};
  for (const { family, version } of readImports(file).symbols) {
    if (highest[family] === undefined || compareVersions(version, highest[family]) > 0) highest[family] = version;
  }
  return highest;
}

/** For a file within the floor: what it needs at most, e.g. "needs at most GLIBC_2.25, GCC_4.2.0; no libstdc++". */
export function floorSummary(file) {
  const highest = Object.entries(highestVersions(file)).map(([family, version]) => `${family}_${version}`);
  return `needs at most ${highest.join(', ')}; no libstdc++`;
}

// `node scripts/prebuild-symbols.mjs FILE...`: prints each file's needs above
// the floor; exit status 1 if any file has one.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let failed = false;
  for (const file of process.argv.slice(2)) {
    const problems = floorProblems(file);
    failed ||= problems.length > 0;
    if (problems.length === 0) {
      console.log(`${file}: ${floorSummary(file)}`);
    } else {
      for (const problem of problems) console.log(`${file}: ${problem}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
