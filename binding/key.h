// Keys cross the binding as a Uint32Array of two words.
#pragma once
#include "args.h"
#include "rp/random.h"

namespace rpb {

inline rp::Key KeyArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Uint32Array a = Uint32ArrayArg(info, i, name);
  if (a.ElementLength() != 2) {
    ThrowType(info.Env(), std::string(name) + " must hold exactly 2 words");
  }
  return rp::Key{a[0], a[1]};
}

inline Napi::Uint32Array KeyValue(Napi::Env env, rp::Key k) {
  Napi::Uint32Array out = Napi::Uint32Array::New(env, 2);
  out[0] = k.k0;
  out[1] = k.k1;
  return out;
}

}  // namespace rpb
