#include "region.h"

#include "args.h"
#include "backing_store.h"
#include "mapped_file.h"

namespace rpb {

Region ReadRegion(Napi::Env env, Napi::Value value, const std::string& name, size_t align) {
  if (!value.IsObject()) ThrowType(env, name + " must be a region object, got " + Describe(value));
  Napi::Object obj = value.As<Napi::Object>();
  Region r;
  Napi::Value data = obj.Get("data");
  if (data.IsTypedArray()) {
    Napi::TypedArray ta = data.As<Napi::TypedArray>();
    Napi::ArrayBuffer ab = ta.ArrayBuffer();  // the real buffer, not a `buffer` property
    if (ab.IsDetached()) ThrowType(env, name + " is backed by a detached ArrayBuffer", kBufferDetached);
    if (IsResizable(env, ab)) {
      ThrowType(env, name + " must not use a resizable or growable buffer (the loader's threads read "
                     "it while JavaScript runs)", kBufferResizable);
    }
    r.data = Bytes(ta);
    r.bytes = ta.ByteLength();
    r.type = ta.TypedArrayType();
    r.typed_array = true;
    r.buffer = ab;
    r.share = ShareOf(r.data, ta.ByteLength());
  } else if (auto file = MappedFileOf(obj.Get("file"))) {
    Napi::Value off_v = obj.Get("offset");
    Napi::Value bytes_v = obj.Get("bytes");
    if (!off_v.IsNumber() || !bytes_v.IsNumber()) {
      ThrowType(env, name + ": a file region needs numbers `offset` and `bytes`");
    }
    const double off = off_v.As<Napi::Number>().DoubleValue();
    const double bytes = bytes_v.As<Napi::Number>().DoubleValue();
    const double size = static_cast<double>(file->size());
    if (!(off >= 0 && bytes >= 0 && off == std::floor(off) && bytes == std::floor(bytes) && off + bytes <= size)) {
      ThrowRange(env, name + ": bytes [" + off_v.ToString().Utf8Value() + ", +" +
                          bytes_v.ToString().Utf8Value() + ") are not within the file's " +
                          std::to_string(file->size()) + " bytes");
    }
    r.data = file->data() + static_cast<uint64_t>(off);
    r.bytes = static_cast<uint64_t>(bytes);
    r.file = std::move(file);
  } else {
    ThrowType(env, name + " must have a TypedArray `data` or a MappedFile `file`");
  }
  if (align > 1 && reinterpret_cast<uintptr_t>(r.data) % align != 0) {
    ThrowRange(env, name + " does not start at a multiple of " + std::to_string(align) + " bytes");
  }
  return r;
}

}  // namespace rpb
