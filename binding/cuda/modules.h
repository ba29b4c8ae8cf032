// Each file of the CUDA addon adds its functions to the addon's exports.
#pragma once
#include <napi.h>

namespace rpb {
namespace cuda {
void InitDeviceKernels(Napi::Env env, Napi::Object exports);
void InitDevices(Napi::Env env, Napi::Object exports);
void InitPinned(Napi::Env env, Napi::Object exports);
}  // namespace cuda
}  // namespace rpb
