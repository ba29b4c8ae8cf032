// Builds native/ on its own (no Node headers) and runs its C++ tests with ctest.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = join(root, 'build', 'native-tests');
const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', cwd: root });
run('cmake', ['-S', join(root, 'native'), '-B', build, '-DCMAKE_BUILD_TYPE=Release', '-DRP_BUILD_TESTS=ON']);
run('cmake', ['--build', build, '-j', '2']);
run('ctest', ['--test-dir', build, '--output-on-failure']);
