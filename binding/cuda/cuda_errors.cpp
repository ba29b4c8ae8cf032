#include "cuda_errors.h"

namespace rpb {
namespace cuda {
namespace {

// Errors that mean the driver is missing, too old, or not the runtime's match.
bool IsDriverProblem(cudaError_t err) {
  return err == cudaErrorInsufficientDriver || err == cudaErrorSystemDriverMismatch ||
         err == cudaErrorCompatNotSupportedOnDevice;
}

Status Ask() {
  Status s;
  cudaRuntimeGetVersion(&s.runtime_version);
  cudaDriverGetVersion(&s.driver_version);  // 0 when no driver is installed
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    s.reason = IsDriverProblem(err) ? "no driver" : "no device";
    s.detail = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    cudaGetLastError();  // clear it, so it does not surface in a later call
    return s;
  }
  if (count == 0) {
    s.reason = "no device";
    s.detail = "cudaGetDeviceCount found no CUDA device";
    return s;
  }
  s.devices = count;
  return s;
}

}  // namespace

const Status& GetStatus() {
  static const Status status = Ask();
  return status;
}

void RequireCuda(Napi::Env env) {
  const Status& s = GetStatus();
  if (s.reason.empty()) return;
  Napi::Error err = Napi::Error::New(env, "CUDA is unavailable (" + s.reason + "): " + s.detail);
  err.Set("code", Napi::String::New(env, kCudaUnavailable));
  err.Set("reason", Napi::String::New(env, s.reason));
  throw err;
}

void Check(Napi::Env env, cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  cudaGetLastError();
  ThrowError(env, std::string(what) + " failed: " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err),
             kCudaFailed);
}

}  // namespace cuda
}  // namespace rpb
