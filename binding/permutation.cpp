// random.permutation*: the O(1)-memory keyed bijection on [0, n).
#include "key.h"
#include "modules.h"
#include "result_memory.h"
#include "rp/permutation.h"
#include "rp/thread_pool.h"

namespace rpb {
namespace {

rp::Permutation PermutationArgs(const Napi::CallbackInfo& info) {
  rp::Key key = KeyArg(info, 0, "key");
  uint64_t n = IntegerArg(info, 1, "n", 1, rp::Permutation::kMaxSize);
  return rp::Permutation(key, n);
}

// permutationIndex(key, n, i) -> the record at position i.
Napi::Value Index(const Napi::CallbackInfo& info) {
  rp::Permutation perm = PermutationArgs(info);
  uint64_t i = IntegerArg(info, 2, "i", 0, perm.size() - 1);
  return Napi::Number::New(info.Env(), perm(i));
}

// permutationFill(key, n, start, out) fills out with positions start.. .
Napi::Value Fill(const Napi::CallbackInfo& info) {
  rp::Permutation perm = PermutationArgs(info);
  uint64_t start = IntegerArg(info, 2, "start", 0, perm.size());
  Napi::Uint32Array out = Uint32ArrayArg(info, 3, "out");
  if (out.ElementLength() > perm.size() - start) {
    ThrowRange(info.Env(), "out is longer than the positions left after start (" +
                               std::to_string(perm.size() - start) + ")");
  }
  perm.fill(start, out.Data(), out.ElementLength());
  return info.Env().Undefined();
}

// permutation(key, n, out?) -> the whole order, materialised on the thread
// pool, into out (a Uint32Array of n elements) or a result buffer (pooled
// when large: a fresh 64 MiB array costs more in page faults than the
// permutation itself).
Napi::Value Materialize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  rp::Permutation perm = PermutationArgs(info);
  if (perm.size() > (uint64_t{1} << 31)) {
    ThrowRange(env, "n is too large to materialise; use permutationIndex");
  }
  const size_t n = static_cast<size_t>(perm.size());
  Napi::Uint32Array out;
  if (!info[2].IsUndefined()) {
    out = Uint32ArrayArg(info, 2, "out");
    if (out.ElementLength() != n) {
      ThrowRange(env, "out must have n = " + std::to_string(n) + " elements, has " +
                          std::to_string(out.ElementLength()));
    }
  } else {
    out = Napi::Uint32Array::New(env, n, NewResultBuffer(env, n * sizeof(uint32_t)), 0);
  }
  perm.materialize(out.Data(), rp::ThreadPool::shared());
  return out;
}

}  // namespace

void InitPermutation(Napi::Env env, Napi::Object exports) {
  exports.Set("permutationIndex", Napi::Function::New(env, Coded<Index>));
  exports.Set("permutationFill", Napi::Function::New(env, Coded<Fill>));
  exports.Set("permutation", Napi::Function::New(env, Coded<Materialize>));
}

}  // namespace rpb
