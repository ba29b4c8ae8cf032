// random.*: Threefry keys, split, fold_in and bits.
#include "key.h"
#include "modules.h"

namespace rpb {
namespace {

constexpr uint64_t kU32Max = 0xffffffffu;
constexpr uint64_t kMaxWords = uint64_t{1} << 30;  // 4 GiB of output at most

// threefry2x32(key, counter): one raw block, for known-answer tests.
Napi::Value Threefry(const Napi::CallbackInfo& info) {
  rp::Key key = KeyArg(info, 0, "key");
  Napi::Uint32Array ctr = Uint32ArrayArg(info, 1, "counter");
  if (ctr.ElementLength() != 2) ThrowType(info.Env(), "counter must hold exactly 2 words");
  auto out = rp::threefry2x32(key, ctr[0], ctr[1]);
  return KeyValue(info.Env(), rp::Key{out[0], out[1]});
}

// keyFromSeed(seed: bigint in [0, 2^64)).
Napi::Value KeyFromSeed(const Napi::CallbackInfo& info) {
  if (!info[0].IsBigInt()) {
    ThrowType(info.Env(), "seed must be a bigint, got " + Describe(info[0]));
  }
  bool lossless = false;
  uint64_t seed = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) ThrowRange(info.Env(), "seed must be in [0, 2^64)");
  return KeyValue(info.Env(), rp::key_from_seed(seed));
}

// split(key, num) -> Uint32Array(2 * num), key j at [2j, 2j + 1].
Napi::Value Split(const Napi::CallbackInfo& info) {
  rp::Key key = KeyArg(info, 0, "key");
  size_t num = IntegerArg(info, 1, "num", 1, kMaxWords / 2);
  Napi::Uint32Array out = Napi::Uint32Array::New(info.Env(), 2 * num);
  rp::split(key, num, reinterpret_cast<rp::Key*>(out.Data()));
  return out;
}

Napi::Value FoldIn(const Napi::CallbackInfo& info) {
  rp::Key key = KeyArg(info, 0, "key");
  uint32_t data = static_cast<uint32_t>(IntegerArg(info, 1, "data", 0, kU32Max));
  return KeyValue(info.Env(), rp::fold_in(key, data));
}

Napi::Value Bits(const Napi::CallbackInfo& info) {
  rp::Key key = KeyArg(info, 0, "key");
  size_t count = IntegerArg(info, 1, "count", 0, kMaxWords);
  Napi::Uint32Array out = Napi::Uint32Array::New(info.Env(), count);
  rp::random_bits(key, out.Data(), count);
  return out;
}

}  // namespace

static_assert(sizeof(rp::Key) == 2 * sizeof(uint32_t), "Key must be two packed words");

void InitRandom(Napi::Env env, Napi::Object exports) {
  exports.Set("threefry2x32", Napi::Function::New(env, Coded<Threefry>));
  exports.Set("keyFromSeed", Napi::Function::New(env, Coded<KeyFromSeed>));
  exports.Set("split", Napi::Function::New(env, Coded<Split>));
  exports.Set("foldIn", Napi::Function::New(env, Coded<FoldIn>));
  exports.Set("bits", Napi::Function::New(env, Coded<Bits>));
}

}  // namespace rpb
