// status() and devices(): whether CUDA runs here, and what it runs on.
#include <cuda_runtime_api.h>

#include <string>

#include "cuda_errors.h"
#include "modules.h"

namespace rpb {
namespace cuda {
namespace {

// status() -> { reason, detail, devices, driverVersion, runtimeVersion }; reason "" when CUDA runs.
Napi::Value StatusValue(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Status& s = GetStatus();
  Napi::Object o = Napi::Object::New(env);
  o.Set("reason", s.reason);
  o.Set("detail", s.detail);
  o.Set("devices", s.devices);
  o.Set("driverVersion", s.driver_version);
  o.Set("runtimeVersion", s.runtime_version);
  return o;
}

// devices() -> [{ index, name, totalMemory, computeCapability: "major.minor" }].
Napi::Value Devices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireCuda(env);
  const Status& s = GetStatus();
  Napi::Array list = Napi::Array::New(env, s.devices);
  for (int i = 0; i < s.devices; ++i) {
    cudaDeviceProp p{};
    Check(env, cudaGetDeviceProperties(&p, i), "cudaGetDeviceProperties");
    Napi::Object d = Napi::Object::New(env);
    d.Set("index", i);
    d.Set("name", std::string(p.name));
    d.Set("totalMemory", static_cast<double>(p.totalGlobalMem));
    d.Set("computeCapability", std::to_string(p.major) + "." + std::to_string(p.minor));
    list.Set(static_cast<uint32_t>(i), d);
  }
  return list;
}

}  // namespace

void InitDevices(Napi::Env env, Napi::Object exports) {
  exports.Set("status", Napi::Function::New(env, Coded<StatusValue>));
  exports.Set("devices", Napi::Function::New(env, Coded<Devices>));
}

}  // namespace cuda
}  // namespace rpb
