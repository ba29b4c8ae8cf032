// The StepStore for a location when none is given: a PosixStepStore for a
// directory, an S3StepStore with the SDK's default client for s3://bucket/prefix.
import { argumentTypeError } from '../error-codes.js';
import { isUrlLocation } from './location.js';
import { PosixStepStore } from './posix-step-store.js';
import { S3StepStore } from './s3-step-store.js';
import type { StepStore } from './step-store.js';

/** location must be normalized (normalizeLocation). */
export function defaultStore(location: string): StepStore {
  if (location.startsWith('s3://')) return S3StepStore.fromUrl(location);
  if (isUrlLocation(location)) throw argumentTypeError(`unsupported checkpoint location ${JSON.stringify(location)}: a directory or s3://bucket/prefix`);
  return new PosixStepStore(location);
}

/** A given store must be for the location when it says where it is (S3StepStore's location). */
export function checkStoreLocation(store: StepStore, location: string, name: string): void {
  const own = (store as { location?: unknown }).location;
  if (typeof own === 'string' && own !== location) {
    throw argumentTypeError(`${name} is a store for ${own}, not for ${JSON.stringify(location)}`);
  }
}
