// hugePageBuffer(byteLength): an ArrayBuffer over the core's huge-page memory
// (see native/include/rp/huge_pages.h), freed when the buffer is collected.
#include "args.h"
#include "modules.h"
#include "rp/huge_pages.h"

#include <cstdint>
#include <new>
#include <string>

namespace rpb {
namespace {

// V8's largest ArrayBuffer on 64-bit hosts.
constexpr uint64_t kMaxByteLength = (uint64_t{1} << 53) - 1;

void FreeHugePages(napi_env /*env*/, void* data, void* hint) {
  rp::free_huge_pages(data, reinterpret_cast<size_t>(hint));
}

Napi::Value HugePageBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t bytes = IntegerArg(info, 0, "byteLength", 0, kMaxByteLength);
  if (bytes == 0) return Napi::ArrayBuffer::New(env, 0);
  if (bytes > SIZE_MAX) ThrowRange(env, "byteLength is too large for this platform");
  void* data = nullptr;
  try {
    data = rp::allocate_huge_pages(static_cast<size_t>(bytes));
  } catch (const std::bad_alloc&) {
    ThrowRange(env, "byteLength " + std::to_string(bytes) +
                        ": the OS refused to map that much memory");
  }
  napi_value result = nullptr;
  napi_status status = napi_create_external_arraybuffer(
      env, data, static_cast<size_t>(bytes), FreeHugePages,
      reinterpret_cast<void*>(static_cast<uintptr_t>(bytes)), &result);
  if (status == napi_ok) return Napi::Value(env, result);
  // Runtimes that forbid external buffers (e.g. a V8 sandbox) get an
  // ordinary ArrayBuffer: same contents, only without the huge pages.
  rp::free_huge_pages(data, static_cast<size_t>(bytes));
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  return Napi::ArrayBuffer::New(env, static_cast<size_t>(bytes));
}

}  // namespace

void InitHugePages(Napi::Env env, Napi::Object exports) {
  exports.Set("hugePageBuffer", Napi::Function::New(env, HugePageBuffer));
}

}  // namespace rpb
