// How the CUDA addon reports CUDA: whether it can run at all (status), and a
// failed CUDA call as a coded error. Codes match src/error-codes.ts.
#pragma once
#include <cuda_runtime_api.h>
#include <napi.h>

#include <string>

#include "../args.h"

namespace rpb {
namespace cuda {

constexpr const char* kCudaUnavailable = "RP_CUDA_UNAVAILABLE";
constexpr const char* kCudaFailed = "RP_CUDA_FAILED";

// Whether CUDA can run here: reason is "" when it can, else "no driver" or
// "no device" (the TypeScript side adds "not built"); detail is CUDA's words.
struct Status {
  std::string reason;
  std::string detail;
  int devices = 0;
  int driver_version = 0;
  int runtime_version = 0;
};

// Asked once per process: CUDA's answer does not change while it runs.
const Status& GetStatus();

// Throws RP_CUDA_UNAVAILABLE (with `reason`) unless CUDA can run.
void RequireCuda(Napi::Env env);

// Throws RP_CUDA_FAILED naming `what` and CUDA's error, unless err is cudaSuccess.
void Check(Napi::Env env, cudaError_t err, const char* what);

}  // namespace cuda
}  // namespace rpb
