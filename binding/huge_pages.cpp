// hugePageBuffer(byteLength): an ArrayBuffer over the core's huge-page memory
// (see native/include/rp/huge_pages.h), freed when the buffer is collected;
// adviseHugePages(view, collapse): the same advice for memory that exists.
#include "args.h"
#include "external_memory.h"
#include "modules.h"
#include "rp/huge_pages.h"

#include <cstdint>
#include <new>
#include <string>

namespace rpb {
namespace {

// V8's largest ArrayBuffer on 64-bit hosts.
constexpr uint64_t kMaxByteLength = (uint64_t{1} << 53) - 1;

Napi::Value HugePageBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t bytes = IntegerArg(info, 0, "byteLength", 0, kMaxByteLength);
  if (bytes == 0) return Napi::ArrayBuffer::New(env, 0);
  if (bytes > SIZE_MAX) ThrowRange(env, "byteLength is too large for this platform");
  const size_t size = static_cast<size_t>(bytes);
  void* data = nullptr;
  try {
    data = rp::allocate_huge_pages(size);
  } catch (const std::bad_alloc&) {
    ThrowRange(env, "byteLength " + std::to_string(bytes) +
                        ": the OS refused to map that much memory");
  }
  MemoryShare owner(data, [size](void* p) { rp::free_huge_pages(p, size); });
  try {
    return NewExternalArrayBuffer(env, static_cast<uint8_t*>(data), size, std::move(owner));
  } catch (const Napi::Error&) {
    // Runtimes that forbid external buffers (e.g. a V8 sandbox) get an
    // ordinary ArrayBuffer: same contents, only without the huge pages.
    return Napi::ArrayBuffer::New(env, size);
  }
}

const char* AdviceName(rp::HugePageAdvice a) {
  switch (a) {
    case rp::HugePageAdvice::kCollapsed: return "collapsed";
    case rp::HugePageAdvice::kAdvised: return "advised";
    default: return "none";
  }
}

// adviseHugePages(view, collapse) -> 'collapsed' | 'advised' | 'none': huge-page
// advice for the memory behind an existing TypedArray (never changes it).
Napi::Value AdviseHugePages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const View view = ViewArg(info, 0, "view");
  if (!info[1].IsBoolean()) ThrowType(env, "collapse must be a boolean, got " + Describe(info[1]));
  const bool collapse = info[1].As<Napi::Boolean>().Value();
  return Napi::String::New(
      env, AdviceName(rp::advise_huge_pages(view.data, view.length * view.element_size, collapse)));
}

}  // namespace

void InitHugePages(Napi::Env env, Napi::Object exports) {
  exports.Set("hugePageBuffer", Napi::Function::New(env, Coded<HugePageBuffer>));
  exports.Set("adviseHugePages", Napi::Function::New(env, Coded<AdviseHugePages>));
}

}  // namespace rpb
