// gather(source, rowLength, indices, out): batch assembly straight from the
// caller's memory (no copy of the source), on the core's thread pool.
#include "args.h"
#include "modules.h"
#include "rp/gather.h"
#include "rp/thread_pool.h"

#include <stdexcept>

namespace rpb {
namespace {

Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArray source = TypedArrayArg(info, 0, "source");
  uint64_t row_length = IntegerArg(info, 1, "rowLength", 1, uint64_t{1} << 40);
  Napi::Uint32Array indices = Uint32ArrayArg(info, 2, "indices");
  Napi::TypedArray out = TypedArrayArg(info, 3, "out");
  if (out.TypedArrayType() != source.TypedArrayType()) {
    ThrowType(env, "out must be the same kind of TypedArray as source");
  }
  if (source.ElementLength() % row_length != 0) {
    ThrowRange(env, "source length " + std::to_string(source.ElementLength()) +
                        " is not a multiple of rowLength " + std::to_string(row_length));
  }
  size_t count = indices.ElementLength();
  if (out.ElementLength() < count * row_length) {
    ThrowRange(env, "out holds " + std::to_string(out.ElementLength()) + " elements, needs " +
                        std::to_string(count * row_length));
  }
  size_t elem = source.ElementSize();
  try {
    rp::gather_rows(Bytes(source), source.ElementLength() / row_length, row_length * elem,
                    indices.Data(), count, Bytes(out), &rp::ThreadPool::shared());
  } catch (const std::out_of_range& e) {
    ThrowRange(env, e.what());
  }
  return out;
}

}  // namespace

void InitGather(Napi::Env env, Napi::Object exports) {
  exports.Set("gather", Napi::Function::New(env, Gather));
}

}  // namespace rpb
