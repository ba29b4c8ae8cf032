// `npm run prebuild`: builds prebuilds/<platform>-<arch>/resumable-pipeline[.glibc].node
// with prebuildify, as `prebuildify --napi --strip --tag-libc` would, with
// scripts/prebuild-node-gyp.mjs (cmake-js) as its node-gyp.
// prebuildify builds in its working directory; we give it build/prebuild, so
// the local build in build/Release is neither wiped nor taken: tests that load
// the addon can run while this runs. (Same file system as prebuilds/, because
// prebuildify moves the result with rename.)
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prebuildify = createRequire(import.meta.url)('prebuildify');
const { name } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const staging = join(root, 'build', 'prebuild');

rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
prebuildify(
  {
    name,
    napi: true, // one build for every Node version with our Node-API version
    strip: true,
    tagLibc: true, // glibc and musl builds differ; node-gyp-build picks by tag
    cwd: staging,
    cache: join(staging, 'devdir'), // node-gyp's header cache; unused by cmake-js, kept out of /tmp
    out: root,
    nodeGyp: join(root, 'scripts', 'prebuild-node-gyp.mjs'),
  },
  (err) => {
    if (err) {
      console.error(`prebuild: ${err.message}`);
      process.exit(1);
    }
    rmSync(staging, { recursive: true, force: true });
    const dir = join('prebuilds', `${process.platform}-${process.arch}`);
    for (const file of readdirSync(join(root, dir))) console.log(`prebuild: ${join(dir, file)}`);
  },
);
