// crc32c(data, crc = 0): the step-file checksum, computed in the core.
#include "args.h"
#include "modules.h"
#include "rp/crc32c.h"

namespace rpb {
namespace {

Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  Napi::Uint8Array data = Uint8ArrayArg(info, 0, "data");
  uint32_t crc = 0;
  if (!info[1].IsUndefined()) crc = static_cast<uint32_t>(IntegerArg(info, 1, "crc", 0, 0xffffffffu));
  return Napi::Number::New(info.Env(), rp::crc32c(Bytes(data), data.ByteLength(), crc));
}

}  // namespace

void InitCrc32c(Napi::Env env, Napi::Object exports) {
  exports.Set("crc32c", Napi::Function::New(env, Coded<Crc32c>));
}

}  // namespace rpb
