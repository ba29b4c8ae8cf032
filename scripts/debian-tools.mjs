// Host tools for the prebuild scripts (a cross compiler, qemu). Missing ones
// are installed from Debian/Ubuntu packages when running as root with apt-get;
// otherwise the error names the command to run.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The path of an executable on PATH, or undefined. */
export function which(tool) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      if (statSync(join(dir, tool)).isFile()) return join(dir, tool);
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * Makes sure each { tool, package } is on PATH: installs the packages of the
 * missing ones with apt-get when it can, and throws naming them when it can't.
 * `purpose` says what they are for, in the messages.
 */
export function ensureDebianTools(needs, purpose) {
  const missing = needs.filter(({ tool }) => which(tool) === undefined);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((n) => n.package))];
  const tools = missing.map((n) => n.tool).join(', ');
  const command = `apt-get install -y ${packages.join(' ')}`;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || which('apt-get') === undefined) {
    const why = root ? 'apt-get is not here' : 'not running as root';
    throw new Error(`${purpose} needs ${tools}, not on PATH (and ${why}, so not installed). On Debian/Ubuntu: sudo ${command}`);
  }
  console.log(`${purpose}: installing ${packages.join(' ')} (for ${tools}) with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
  const still = missing.filter(({ tool }) => which(tool) === undefined).map((n) => n.tool);
  if (still.length > 0) throw new Error(`${purpose}: ${command} ran, but ${still.join(', ')} is still not on PATH`);
}
