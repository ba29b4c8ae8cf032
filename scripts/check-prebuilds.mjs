// `npm publish` guard: refuse to publish without a prebuild, since users'
// installs would then need CMake and a compiler (npm may skip install scripts).
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'prebuilds');
const found = existsSync(dir)
  ? readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(join(dir, d.name)).filter((f) => f.endsWith('.node')).map((f) => `${d.name}/${f}`))
  : [];
if (found.length === 0) {
  console.error('resumable-pipeline: no prebuilds/ to publish; run `npm run prebuild` on each platform first');
  process.exit(1);
}
console.log(`resumable-pipeline: publishing prebuilds ${found.join(', ')}`);
