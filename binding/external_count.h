// V8's count of external memory, which starts a full Mark-Compact ("external
// memory pressure") when it grows 64 MiB past its value at the last full
// collection. Pooled memory handed to JavaScript is taken out of the count
// here, so a loop of fresh batches never starts one (see batch_memory.h).
//
// The count may only be lowered on the way out of a hand-out, and what a
// gone buffer owes is given back by lowering the next hand-out's adjustment
// less: V8 forgets a collected buffer's bytes only when it sweeps, which may
// come after we learn it is gone, so raising the count then could push it
// past the limit for a moment and start a collection. What is owed is kept
// per environment, so a closed loader's debt is repaid by the next one.
#pragma once
#include <napi.h>

#include <cstddef>

namespace rpb {

// V8 has just counted `bytes` for a buffer we hand out: takes them out again,
// less what is owed.
void HideExternal(Napi::Env env, size_t bytes);
// A buffer whose bytes were hidden is gone (collected or detached) but V8 may
// not have swept it yet: owed, repaid by later hand-outs.
void OweExternal(Napi::Env env, size_t bytes);
// A buffer whose bytes were hidden has been freed by V8 (its finalizer runs):
// given back to the count at once.
void RepayExternal(napi_env env, size_t bytes);

}  // namespace rpb
