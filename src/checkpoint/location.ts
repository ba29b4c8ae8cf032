// Where a checkpoint lives: a directory path, or a URL (s3://bucket/prefix).
// Paths are resolved and joined as paths; a URL is kept as written and its
// file names joined with '/', so errors name s3://bucket/prefix/step_7.msgpack.
import { join as joinPath, resolve as resolvePath } from 'node:path';

const URL_LOCATION = /^[a-z][a-z0-9+.-]*:\/\//i;

export function isUrlLocation(location: string): boolean {
  return URL_LOCATION.test(location);
}

/** A directory resolved to an absolute path; a URL without its trailing slashes. */
export function normalizeLocation(location: string): string {
  if (!isUrlLocation(location)) return resolvePath(location);
  const scheme = location.indexOf('://') + 3;
  return location.slice(0, scheme) + location.slice(scheme).replace(/\/+$/, '');
}

/** The file `name` inside location. */
export function pathIn(location: string, name: string): string {
  return isUrlLocation(location) ? `${location}/${name}` : joinPath(location, name);
}

