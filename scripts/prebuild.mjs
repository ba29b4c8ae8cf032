// `npm run prebuild`: builds every prebuild this host can build
// (scripts/prebuild-targets.mjs: on x86-64 Linux, linux-x64 and, cross-built,
// linux-arm64) into prebuilds/<platform>-<arch>/resumable-pipeline.glibc.node,
// with prebuildify (as `prebuildify --napi --strip --tag-libc` would) and
// scripts/prebuild-node-gyp.mjs (cmake-js) as its node-gyp.
//   --arch x64,arm64   only these architectures
//   --if-stale         skip a prebuild that is newer than all its sources
// prebuildify builds in its working directory; we give it build/prebuild-<arch>,
// so the local build in build/Release is neither wiped nor taken: tests that
// load the addon can run while this runs. (Same file system as prebuilds/,
// because prebuildify moves the result with rename.)
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDebianTools } from './debian-tools.mjs';
import { NAME, buildableTargets, isNative, prebuildPath, root, staleReason } from './prebuild-targets.mjs';

const { values } = parseArgs({ options: { arch: { type: 'string' }, 'if-stale': { type: 'boolean', default: false } } });
const prebuildify = createRequire(import.meta.url)('prebuildify');

const buildable = buildableTargets();
const wanted = values.arch === undefined ? buildable.map((t) => t.arch) : values.arch.split(',');
const targets = [];
for (const arch of wanted) {
  const target = buildable.find((t) => t.arch === arch);
  if (target === undefined) {
    const can = buildable.map((t) => t.arch).join(', ') || 'none';
    console.error(`prebuild: this ${process.platform}-${process.arch} host cannot build ${arch} (it builds: ${can})`);
    process.exit(2);
  }
  targets.push(target);
}

/** Runs prebuildify for one target; resolves when its file is in prebuilds/. */
function build(target) {
  const staging = join(root, 'build', `prebuild-${target.arch}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  return new Promise((resolve, reject) =>
    prebuildify(
      {
        name: NAME,
        arch: target.arch,
        napi: true, // one build for every Node version with our Node-API version
        strip: true,
        stripBin: isNative(target) ? 'strip' : `${target.triple}-strip`,
        tagLibc: true, // glibc and musl builds differ; node-gyp-build picks by tag
        cwd: staging,
        cache: join(staging, 'devdir'), // node-gyp's header cache; unused by cmake-js, kept out of /tmp
        out: root,
        nodeGyp: join(root, 'scripts', 'prebuild-node-gyp.mjs'),
      },
      (err) => {
        if (err) return reject(err);
        rmSync(staging, { recursive: true, force: true });
        resolve();
      },
    ),
  );
}

for (const target of targets) {
  const name = `${target.platform}-${target.arch}`;
  const why = staleReason(target);
  if (values['if-stale'] && why === undefined) {
    console.log(`prebuild: ${prebuildPath(target)} is up to date, not rebuilt`);
    continue;
  }
  const started = Date.now();
  console.log(`prebuild: building ${name}${why ? ` (${why})` : ''}`);
  try {
    if (!isNative(target)) {
      ensureDebianTools(
        [
          { tool: `${target.triple}-g++`, package: target.crossPackage },
          { tool: `${target.triple}-strip`, package: target.crossPackage },
        ],
        `prebuild of ${name}`,
      );
    }
    await build(target);
  } catch (error) {
    console.error(`prebuild: ${name}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const { size } = statSync(join(root, prebuildPath(target)));
  console.log(`prebuild: ${prebuildPath(target)} (${Math.round(size / 1024)} KiB, ${Math.round((Date.now() - started) / 1000)} s)`);
}
