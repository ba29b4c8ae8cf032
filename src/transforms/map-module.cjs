'use strict';
// A map module's loading and the transfer list of a map's result: plain
// JavaScript, shared by the worker entry (map-worker.cjs, which runs without a
// TypeScript loader) and the main thread (workers: 0).
const { types } = require('node:util');

/**
 * The map function of the module at `href` (a file: URL): its default export,
 * or the `default` of a CommonJS module compiled from ESM. Rejects with an
 * Error whose `invalid` property is true for a module that does not load or
 * has no default export function.
 */
async function loadMapModule(href) {
  let mod;
  try {
    mod = await import(href);
  } catch (cause) {
    throw invalid(`the map module ${href} cannot be loaded: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
  let fn = mod.default;
  if (typeof fn !== 'function' && fn !== null && typeof fn === 'object' && typeof fn.default === 'function') fn = fn.default;
  if (typeof fn !== 'function') {
    throw invalid(`the map module ${href} has no default export function (it exports ${Object.keys(mod).join(', ') || 'nothing'})`);
  }
  return fn;
}

function invalid(message, cause) {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  error.invalid = true;
  return error;
}

/**
 * The ArrayBuffers behind the views and buffers of a result, so they are
 * moved, not copied: the value itself, its properties and elements, and
 * theirs (three levels; a typical result is a few arrays in an object).
 */
function transfersOf(value) {
  const found = new Set();
  visit(value, 0, found);
  return [...found];
}

function visit(value, depth, found) {
  if (value === null || typeof value !== 'object') return;
  if (types.isArrayBufferView(value)) {
    if (types.isArrayBuffer(value.buffer) && value.buffer.byteLength > 0) found.add(value.buffer);
    return;
  }
  if (types.isArrayBuffer(value)) {
    if (value.byteLength > 0) found.add(value);
    return;
  }
  if (depth >= 3) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) visit(value[i], depth + 1, found);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return; // Maps, class instances: cloned as they are
  for (const key of Object.keys(value)) visit(value[key], depth + 1, found);
}

/** What crosses back for an error a map threw: the copy keeps name, message, stack and code. */
function errorReply(error) {
  if (error instanceof Error) {
    return { message: error.message, name: error.name, stack: error.stack, code: error.code };
  }
  return { message: String(error), name: 'Error', stack: undefined, code: undefined, value: String(error) };
}

module.exports = { loadMapModule, transfersOf, errorReply };
