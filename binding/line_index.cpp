// indexLines(file) -> BigInt64Array of n + 1 byte offsets (rp::index_lines)
// over a MappedFile, usable as a ragged column's offsets over the file;
// lineNumberAt(file, offset) -> the 1-based line holding that byte.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "external_memory.h"
#include "mapped_file.h"
#include "modules.h"
#include "rp/line_index.h"

namespace rpb {
namespace {

std::shared_ptr<rp::MappedFile> FileArg(const Napi::CallbackInfo& info, size_t i) {
  std::shared_ptr<rp::MappedFile> file = MappedFileOf(info[i]);
  if (!file) ThrowType(info.Env(), "file must be a MappedFile, got " + Describe(info[i]));
  return file;
}

Napi::Value IndexLines(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<rp::MappedFile> file = FileArg(info, 0);
  auto offsets = std::make_unique<std::vector<uint64_t>>(rp::index_lines(file->data(), file->size()));
  const size_t count = offsets->size();
  const size_t bytes = count * sizeof(uint64_t);
  if (bytes > kMaxExternalBytes) {
    ThrowRange(env, "the file has " + std::to_string(count - 1) +
                        " lines, more than a 4 GiB index can hold");
  }
  Napi::ArrayBuffer buffer;
  uint8_t* data = reinterpret_cast<uint8_t*>(offsets->data());
  try {
    // Zero-copy: the buffer owns the vector.
    MemoryShare owner(offsets.release(), [](void* v) { delete static_cast<std::vector<uint64_t>*>(v); });
    buffer = NewExternalArrayBuffer(env, data, bytes, std::move(owner));
  } catch (const Napi::Error&) {
    // Runtimes that forbid external buffers get a copy.
    std::vector<uint64_t> again = rp::index_lines(file->data(), file->size());
    buffer = Napi::ArrayBuffer::New(env, bytes);
    std::memcpy(buffer.Data(), again.data(), bytes);
  }
  return Napi::BigInt64Array::New(env, count, buffer, 0);
}

Napi::Value LineNumberAt(const Napi::CallbackInfo& info) {
  std::shared_ptr<rp::MappedFile> file = FileArg(info, 0);
  const uint64_t offset = IntegerArg(info, 1, "offset", 0, file->size());
  return Napi::Number::New(info.Env(),
                           static_cast<double>(rp::line_number_at(file->data(), file->size(), offset)));
}

}  // namespace

void InitLineIndex(Napi::Env env, Napi::Object exports) {
  exports.Set("indexLines", Napi::Function::New(env, Coded<IndexLines>, "indexLines"));
  exports.Set("lineNumberAt", Napi::Function::New(env, Coded<LineNumberAt>, "lineNumberAt"));
}

}  // namespace rpb
