// new MappedFile(path): byteLength, and slice(offset, length) -> an external
// ArrayBuffer over that range: a private copy-on-write mapping (zero-copy
// until written; a write changes only the process's copy, never the file, and
// cannot fault like a write to the read-only mapping would). Node caps
// external ArrayBuffers at 4 GiB; a prefetch queue reads the read-only mapping
// of any size through MappedFileOf().
#include "mapped_file.h"

#include <system_error>

#include "args.h"
#include "external_memory.h"
#include "modules.h"
#include "rp/huge_pages.h"

namespace rpb {
namespace {

// Marks objects made by this class, so MappedFileOf never unwraps a stranger.
constexpr napi_type_tag kMappedFileTag = {0x7c1e5a0d93b24f61ULL, 0xa4f0c2b8d35e9e17ULL};

constexpr uint64_t kMaxExternal = uint64_t{1} << 32;  // Node 20's Buffer limit

class MappedFileWrap : public Napi::ObjectWrap<MappedFileWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "MappedFile",
                       {InstanceAccessor<&MappedFileWrap::ByteLength>("byteLength"),
                        InstanceMethod<&MappedFileWrap::Coded<&MappedFileWrap::Slice>>("slice"),
                        InstanceMethod<&MappedFileWrap::Coded<&MappedFileWrap::AdviseHugePages>>("adviseHugePages")});
  }

  explicit MappedFileWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MappedFileWrap>(info) {
    std::string path = StringArg(info, 0, "path");
    try {
      file_ = std::make_shared<rp::MappedFile>(path);
    } catch (...) {
      ThrowNative(info.Env());  // a std::system_error: RP_SYSTEM_ERROR with errno
    }
    info.This().As<Napi::Object>().TypeTag(&kMappedFileTag);
  }

  std::shared_ptr<rp::MappedFile> file() const { return file_; }

  RPB_CODED_METHODS(MappedFileWrap)

 private:
  Napi::Value ByteLength(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(file_->size()));
  }

  // adviseHugePages() -> 'advised' | 'none': MADV_HUGEPAGE on the mapping, where
  // the kernel allows it for file-backed memory. Never a collapse: that would
  // read the whole file in at once.
  Napi::Value AdviseHugePages(const Napi::CallbackInfo& info) {
    const rp::HugePageAdvice a =
        rp::advise_huge_pages(const_cast<uint8_t*>(file_->data()), file_->size(), false);
    return Napi::String::New(info.Env(), a == rp::HugePageAdvice::kNone ? "none" : "advised");
  }

  Napi::Value Slice(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint64_t size = file_->size();
    uint64_t offset = IntegerArg(info, 0, "offset", 0, size);
    uint64_t length = IntegerArg(info, 1, "length", 0, size - offset);
    if (length > kMaxExternal) {
      ThrowRange(env, "length " + std::to_string(length) +
                          " exceeds the 4 GiB an external ArrayBuffer can hold");
    }
    if (length == 0) return Napi::ArrayBuffer::New(env, 0);
    rp::PrivateMapping view;
    try {
      view = file_->map_private(offset, static_cast<size_t>(length));
    } catch (...) {
      ThrowNative(env);
    }
    MemoryShare owner(new rp::PrivateMapping(view), [](void* m) {
      auto* mapping = static_cast<rp::PrivateMapping*>(m);
      rp::PrivateMapping::unmap(*mapping);
      delete mapping;
    });
    return NewExternalArrayBuffer(env, view.data, static_cast<size_t>(length), std::move(owner));
  }

  std::shared_ptr<rp::MappedFile> file_;
};

}  // namespace

std::shared_ptr<rp::MappedFile> MappedFileOf(const Napi::Value& value) {
  if (!value.IsObject()) return nullptr;
  Napi::Object obj = value.As<Napi::Object>();
  if (!obj.CheckTypeTag(&kMappedFileTag)) return nullptr;
  return MappedFileWrap::Unwrap(obj)->file();
}

void InitMappedFile(Napi::Env env, Napi::Object exports) {
  exports.Set("MappedFile", MappedFileWrap::Define(env));
}

}  // namespace rpb
