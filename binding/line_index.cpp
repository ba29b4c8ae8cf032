// indexLines(file, withEnds) -> { offsets, ends? }: BigInt64Arrays of the n + 1
// record offsets (and n content ends) of a JSON Lines MappedFile
// (rp::index_lines), usable as a ragged column's offsets over the file;
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

// A BigInt64Array over the vector's memory (zero-copy: the buffer owns it).
Napi::BigInt64Array Int64ArrayOf(Napi::Env env, rp::OffsetVector&& values) {
  const size_t count = values.size();
  const size_t bytes = count * sizeof(uint64_t);
  if (bytes > kMaxExternalBytes) {
    ThrowRange(env, "the file has " + std::to_string(count) + " records, more than a 4 GiB index can hold");
  }
  if (count == 0) return Napi::BigInt64Array::New(env, 0);
  auto* owned = new rp::OffsetVector(std::move(values));
  uint8_t* data = reinterpret_cast<uint8_t*>(owned->data());
  MemoryShare owner(owned, [](void* v) { delete static_cast<rp::OffsetVector*>(v); });
  MemoryShare keep = owner;  // for the copy below
  Napi::ArrayBuffer buffer;
  try {
    buffer = NewExternalArrayBuffer(env, data, bytes, std::move(owner));
  } catch (const Napi::Error&) {
    // Runtimes that forbid external buffers get a copy.
    buffer = Napi::ArrayBuffer::New(env, bytes);
    std::memcpy(buffer.Data(), data, bytes);
  }
  return Napi::BigInt64Array::New(env, count, buffer, 0);
}

// indexLines(file, withEnds) -> { offsets, ends? }
Napi::Value IndexLines(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<rp::MappedFile> file = FileArg(info, 0);
  if (!info[1].IsBoolean()) ThrowType(env, "withEnds must be a boolean, got " + Describe(info[1]));
  const bool with_ends = info[1].As<Napi::Boolean>().Value();
  rp::OffsetVector ends;
  rp::OffsetVector offsets = rp::index_lines(file->data(), file->size(), with_ends ? &ends : nullptr);
  Napi::Object result = Napi::Object::New(env);
  result.Set("offsets", Int64ArrayOf(env, std::move(offsets)));
  if (with_ends) result.Set("ends", Int64ArrayOf(env, std::move(ends)));
  return result;
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
