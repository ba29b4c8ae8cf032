// The package as users get it: `npm pack`, then install the tarball into fresh
// projects. Without CMake or a compiler on PATH it must install and load the
// prebuild from both import and require; with npm_config_build_from_source=true
// it must build from source and load that; and TypeScript consumers must
// type-check against the installed types from .mts and .cts files.
// Needs the npm registry (or a warm npm cache) for the runtime dependencies.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { random } from '../src/index.js';

const root = resolve(__dirname, '..');
const PACKAGE = 'resumable-pipeline';
const platformDir = `${process.platform}-${process.arch}`;
const MINUTE = 60_000;
// Tools a source build needs; hidden from PATH for the prebuild install.
const BUILD_TOOLS = ['cmake', 'c++', 'g++', 'gcc', 'cc', 'clang', 'clang++', 'make', 'ninja'];
// What npm and our scripts need besides node; symlinked into the bare PATH.
const BASIC_TOOLS = ['npm', 'npx', 'sh', 'env', 'cat', 'ls', 'mkdir', 'rm', 'cp', 'mv', 'uname', 'grep', 'sed'];

interface Run {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs a command; returns stdout + stderr, or throws with the output's tail. */
function run(command: string, args: string[], { cwd, env, timeoutMs = 3 * MINUTE }: Run): string {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error?.message ?? `exit status ${result.status}, signal ${result.signal}`;
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${why}\n${output.slice(-6000)}`);
  }
  return output;
}

/** The environment of this process without what `npm test` set for its own package. */
function cleanEnv(path: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && name !== 'INIT_CWD') env[name] = value;
  }
  return { ...env, PATH: path, ...extra };
}

function which(tool: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    const candidate = join(dir, tool);
    try {
      if (dir !== '' && statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

function newestMtime(paths: string[]): number {
  let newest = 0;
  for (const path of paths) {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      newest = Math.max(newest, newestMtime(readdirSync(path).map((name) => join(path, name))));
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  }
  return newest;
}

/**
 * Builds this platform's prebuild when it is missing or older than its sources
 * (a fresh clone has none); scripts/prebuild-targets.mjs decides which.
 * `npm run test:prebuilds` covers the cross-built ones.
 */
function ensurePrebuild(): void {
  // Builds in build/prebuild-<arch>, so the local build other tests load stays put.
  run(process.execPath, [join(root, 'scripts', 'prebuild.mjs'), '--arch', process.arch, '--if-stale'], {
    cwd: root,
    env: cleanEnv(process.env.PATH ?? ''),
    timeoutMs: 10 * MINUTE,
  });
}

/** dist/ is built by `npm ci` (prepare); rebuilding it here could pull it from under other tests. */
function checkDist(): void {
  const outputs = ['dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/index.mjs', 'dist/esm/index.d.mts'];
  const missing = outputs.filter((path) => !existsSync(join(root, path)));
  const stale = missing.length === 0 && newestMtime([join(root, 'src')]) > newestMtime(outputs.map((p) => join(root, p)));
  if (missing.length > 0 || stale) {
    throw new Error(`dist/ is ${missing.length > 0 ? `missing ${missing.join(', ')}` : 'older than src/'}: run "npm run build:ts"`);
  }
}

/** A folder with node and the basic tools but no build tools, to use as the whole PATH. */
function barePath(dir: string): string {
  mkdirSync(dir);
  symlinkSync(process.execPath, join(dir, 'node'));
  for (const tool of BASIC_TOOLS) {
    const found = which(tool);
    if (found !== undefined) symlinkSync(realpathSync(found), join(dir, tool));
  }
  return dir;
}

interface Loaded {
  order: number[];
  addons: string[];
}

const CHECK_BODY = `
const order = Array.from(random.permutation(random.key(42), 10));
const addons = process.report.getReport().sharedObjects.filter((path) => path.endsWith('.node'));
console.log(JSON.stringify({ order, addons }));
`;

/** Loads the installed package with require and with import; returns what each loaded. */
function loadBothWays(project: string, env: NodeJS.ProcessEnv): { required: Loaded; imported: Loaded } {
  writeFileSync(join(project, 'check.cjs'), `const { random } = require('${PACKAGE}');\n${CHECK_BODY}`);
  writeFileSync(join(project, 'check.mjs'), `import { random } from '${PACKAGE}';\n${CHECK_BODY}`);
  const parse = (file: string): Loaded => {
    const lines = run(process.execPath, [file], { cwd: project, env }).trim().split('\n');
    return JSON.parse(lines[lines.length - 1]!) as Loaded;
  };
  return { required: parse('check.cjs'), imported: parse('check.mjs') };
}

describe('the npm package', () => {
  let work: string;
  let tarball: string;
  let bare: string;
  let packedFiles: string[];
  let prebuiltProject: string;
  let prebuiltInstallLog: string;
  const expectedOrder = Array.from(random.permutation(random.key(42), 10));

  /** A fresh project that depends on the tarball and lets its install script run. */
  function newProject(name: string): string {
    const project = join(work, name);
    mkdirSync(project);
    // npm 11 asks projects to approve dependency install scripts; older npm ignores the field.
    const manifest = { name, private: true, allowScripts: { [`file:${tarball}`]: true } };
    writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
    return project;
  }

  function install(project: string, env: NodeJS.ProcessEnv): string {
    const npm = join(bare, 'npm');
    const args = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball];
    return run(npm, args, { cwd: project, env, timeoutMs: 5 * MINUTE });
  }

  beforeAll(() => {
    ensurePrebuild();
    checkDist();
    work = mkdtempSync(join(tmpdir(), 'rp-package-'));
    bare = barePath(join(work, 'bin'));

    const packOutput = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: root,
      env: cleanEnv(process.env.PATH ?? ''),
    });
    const [packed] = JSON.parse(packOutput.slice(packOutput.indexOf('['))) as [
      { filename: string; size: number; files: { path: string }[] },
    ];
    tarball = join(work, packed.filename);
    packedFiles = packed.files.map((file) => file.path);
    console.log(`${packed.filename}: ${packed.size} bytes packed, ${packedFiles.length} files`);

    prebuiltProject = newProject('consumer-prebuilt');
    prebuiltInstallLog = install(prebuiltProject, cleanEnv(bare));
  }, 15 * MINUTE);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('packs dist/ (ESM, CJS, types), the prebuild and the sources of a fallback build, and nothing else', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/cjs/index.js',
        'dist/cjs/index.d.ts',
        'dist/esm/index.mjs',
        'dist/esm/index.d.mts',
        'CMakeLists.txt',
        'native/CMakeLists.txt',
        'native/include/rp/random.h',
        'native/src/random.cpp',
        'binding/addon.cpp',
        'scripts/install.mjs',
        'scripts/prebuild-targets.mjs',
      ]),
    );
    expect(packedFiles.some((path) => path.startsWith(`prebuilds/${platformDir}/`) && path.endsWith('.node'))).toBe(true);
    const unwanted = /^(build|test|bench|examples|src|node_modules|native\/tests)\/|\.tgz$/;
    expect(packedFiles.filter((path) => unwanted.test(path))).toEqual([]);
  });

  it('installs without CMake or a compiler and loads the prebuild through import and require', () => {
    const env = cleanEnv(bare);
    for (const tool of BUILD_TOOLS) expect(which(tool, bare), `${tool} is hidden`).toBeUndefined();

    const installed = realpathSync(join(prebuiltProject, 'node_modules', PACKAGE));
    const prebuilds = join(installed, 'prebuilds', platformDir);
    // The install script ran, found the prebuild, and built nothing.
    expect(prebuiltInstallLog).toContain(`${PACKAGE}: using the native addon ${prebuilds}`);
    expect(existsSync(join(installed, 'build'))).toBe(false);

    const { required, imported } = loadBothWays(prebuiltProject, env);
    for (const loaded of [required, imported]) {
      expect(loaded.addons).toHaveLength(1);
      expect(loaded.addons[0]!.startsWith(prebuilds)).toBe(true);
      // The prebuild computes what the development build computes.
      expect(loaded.order).toEqual(expectedOrder);
    }
  });

  it.runIf(process.platform === 'linux')('packs a prebuild that loads on glibc 2.28 without the system libstdc++, which a normal build would not', () => {
    const check = join(root, 'scripts', 'prebuild-symbols.mjs');
    const prebuild = packedFiles.find((path) => path.startsWith(`prebuilds/${platformDir}/`) && path.endsWith('.node'))!;
    const installed = join(prebuiltProject, 'node_modules', PACKAGE, prebuild);
    expect(run(process.execPath, [check, installed], { cwd: root, env: cleanEnv(process.env.PATH ?? '') })).toContain(
      'needs at most GLIBC_2.',
    );
    // The check can fail: the local build links libstdc++ and this host's glibc as they come.
    const local = spawnSync(process.execPath, [check, join(root, 'build', 'Release', 'resumable_pipeline.node')], { encoding: 'utf8' });
    expect(local.status).toBe(1);
    expect(local.stdout).toContain("symbols from the system's libstdc++");
  });

  it('says what it tried and how to build from source when no addon is there', () => {
    const installed = join(prebuiltProject, 'node_modules', PACKAGE);
    const script = join(prebuiltProject, 'missing.cjs');
    writeFileSync(
      script,
      `try { require('${PACKAGE}').random.key(1); console.log('loaded'); } catch (e) { console.log(e.message); }`,
    );
    renameSync(join(installed, 'prebuilds'), join(installed, 'prebuilds-hidden'));
    try {
      const message = run(process.execPath, [script], { cwd: prebuiltProject, env: cleanEnv(bare) });
      expect(message).toContain(`${PACKAGE}: no native addon for ${platformDir}`);
      expect(message).toContain(join('build', 'Release'));
      expect(message).toContain(join('prebuilds', platformDir));
      expect(message).toContain('npx cmake-js rebuild');
      expect(message).toContain('npm_config_build_from_source=true');
    } finally {
      renameSync(join(installed, 'prebuilds-hidden'), join(installed, 'prebuilds'));
    }
  });

  it('names the tools to install for a build from source when it fails, on each platform', () => {
    const installed = realpathSync(join(prebuiltProject, 'node_modules', PACKAGE));
    const script = join(installed, 'scripts', 'install.mjs');
    // Forced to build, with no CMake or compiler on PATH: cmake-js fails, the script says what to install.
    const result = spawnSync(process.execPath, [script], {
      cwd: installed,
      env: cleanEnv(bare, { npm_config_build_from_source: 'true' }),
      encoding: 'utf8',
    });
    rmSync(join(installed, 'build'), { recursive: true, force: true });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${PACKAGE}: the build from source failed`);
    expect(result.stderr).toContain('apt-get install g++ cmake');
    const hint = (platform: string, libc: string): string =>
      run(process.execPath, ['--input-type=module', '-e',
        `import { buildToolsHint } from ${JSON.stringify(pathToFileURL(script).href)}; console.log(buildToolsHint('${platform}', '${libc}'))`],
      { cwd: installed, env: cleanEnv(bare) });
    expect(hint('linux', 'musl')).toContain('apk add build-base cmake python3');
    expect(hint('darwin', '')).toContain('xcode-select --install');
    expect(hint('win32', '')).toContain('Visual Studio Build Tools');
  });

  it('type-checks TypeScript consumers against the installed types from .mts (import) and .cts (require)', () => {
    const project = prebuiltProject;
    const body = (rp: string): string =>
      [
        `const key: ${rp}random.Key = ${rp}random.key(7);`,
        `const order: Uint32Array = ${rp}random.permutation(key, 10);`,
        'export const first: number | undefined = order[0];',
        '// @ts-expect-error the seed is a number or bigint, so the types are not `any`',
        `${rp}random.key('7');`,
        '',
      ].join('\n');
    writeFileSync(join(project, 'use-import.mts'), `import { random } from '${PACKAGE}';\n${body('')}`);
    writeFileSync(join(project, 'use-require.cts'), `import rp = require('${PACKAGE}');\n${body('rp.')}`);
    const compilerOptions = {
      target: 'ES2022',
      lib: ['ES2022'],
      module: 'node16',
      moduleResolution: 'node16',
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: [],
    };
    const files = ['use-import.mts', 'use-require.cts'];
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }, null, 2));

    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const trace = run(process.execPath, [tsc, '-p', project, '--traceResolution'], { cwd: project, env: cleanEnv(bare) });
    const resolved = [...trace.matchAll(/Module name 'resumable-pipeline' was successfully resolved to '([^']+)'/g)];
    const targets = resolved.map((match) => match[1]!.slice(match[1]!.indexOf(`node_modules/${PACKAGE}/`)));
    expect(new Set(targets)).toEqual(
      new Set([`node_modules/${PACKAGE}/dist/esm/index.d.mts`, `node_modules/${PACKAGE}/dist/cjs/index.d.ts`]),
    );
  });

  it('builds from source and loads that build with npm_config_build_from_source=true', () => {
    const project = newProject('consumer-source');
    const env = cleanEnv(process.env.PATH ?? '', { npm_config_build_from_source: 'true' });
    const log = install(project, env);
    const installed = realpathSync(join(project, 'node_modules', PACKAGE));
    const local = join(installed, 'build', 'Release');
    expect(log).toContain(`${PACKAGE}: building the native addon from source`);
    expect(log).toContain(`${PACKAGE}: built and loaded ${local}`);

    const { required, imported } = loadBothWays(project, cleanEnv(bare));
    for (const loaded of [required, imported]) {
      expect(loaded.addons).toHaveLength(1);
      expect(loaded.addons[0]!.startsWith(local)).toBe(true);
      expect(loaded.order).toEqual(expectedOrder);
    }
  }, 10 * MINUTE);
});
