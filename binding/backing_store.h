// Facts about the memory behind a TypedArray that must come from the engine,
// not from JavaScript properties (which a caller can override): whether its
// buffer can change size under a thread that reads it.
#pragma once
#include <napi.h>

namespace rpb {

// Captures the engine's own `resizable`/`growable` getters when the addon
// loads, before user code can replace them on the prototypes.
void InitBackingStore(Napi::Env env);

// True if `buffer` (an ArrayBuffer or SharedArrayBuffer, as napi_get_typedarray_info
// returns it) is resizable or growable.
bool IsResizable(Napi::Env env, napi_value buffer);

// Marks an ArrayBuffer untransferable (worker_threads.markAsUntransferable),
// so postMessage and structuredClone copy it instead of detaching it. Sources
// a thread reads are marked here, whoever builds the queue.
void MarkUntransferable(Napi::Env env, napi_value buffer);

}  // namespace rpb
