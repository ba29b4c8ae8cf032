#include "external_count.h"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace rpb {
namespace {

// Bytes owed, by environment (workers have their own isolate and count).
std::mutex& OwedMutex() {
  static auto* mu = new std::mutex;  // never destroyed: finalizers may run at exit
  return *mu;
}
std::unordered_map<napi_env, size_t>& Owed() {
  static auto* owed = new std::unordered_map<napi_env, size_t>;
  return *owed;
}

void Forget(void* env) {
  std::lock_guard<std::mutex> lock(OwedMutex());
  Owed().erase(static_cast<napi_env>(env));
}

void Adjust(napi_env env, int64_t change) {
  int64_t unused;
  napi_adjust_external_memory(env, change, &unused);
}

}  // namespace

void HideExternal(Napi::Env env, size_t bytes) {
  size_t repaid = 0;
  {
    std::lock_guard<std::mutex> lock(OwedMutex());
    auto it = Owed().find(env);
    if (it != Owed().end()) {
      repaid = std::min(it->second, bytes);
      it->second -= repaid;
    }
  }
  if (repaid < bytes) Adjust(env, -static_cast<int64_t>(bytes - repaid));
}

void OweExternal(Napi::Env env, size_t bytes) {
  std::lock_guard<std::mutex> lock(OwedMutex());
  auto [it, added] = Owed().try_emplace(env, 0);
  if (added) napi_add_env_cleanup_hook(env, Forget, static_cast<napi_env>(env));
  it->second += bytes;
}

void RepayExternal(napi_env env, size_t bytes) { Adjust(env, static_cast<int64_t>(bytes)); }

}  // namespace rpb
