// Errors from the addon's file calls, given Node's shape: `code` (ENOSPC,
// EROFS, ...), a negative `errno`, `syscall`, `path`, and a message like the
// one Node's own fs would give ("ENOSPC: no space left on device, write '/d/f'").
import { constants } from 'node:os';

export function systemError(err: unknown): unknown {
  const e = err as { errno?: unknown; syscall?: unknown; path?: unknown; description?: unknown; message?: unknown } | null;
  if (typeof e !== 'object' || e === null || typeof e.errno !== 'number') return err;
  const errno = e.errno;
  const code = Object.entries(constants.errno).find(([, value]) => value === errno)?.[0] ?? `E${errno}`;
  const message =
    typeof e.syscall === 'string'
      ? `${code}: ${String(e.description ?? '').toLowerCase()}, ${e.syscall} '${String(e.path)}'`
      : `${code}: ${String(e.message)}`;
  return Object.assign(new Error(message), { code, errno: -errno, syscall: e.syscall, path: e.path });
}
