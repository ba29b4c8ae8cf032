// checkRaggedOffsets(starts, ends, offsets64, rows, values) -> { maxRow, total }:
// a ragged column's offsets checked once, in one pass (rp::check_ragged), when
// a source makes the column (src/sources/column.ts). Bad offsets are a
// RangeError RP_SOURCE_INVALID naming the entry.
#include <string>

#include "args.h"
#include "modules.h"
#include "region.h"
#include "rp/ragged.h"

namespace rpb {
namespace {

constexpr uint64_t kMaxSafe = (uint64_t{1} << 53) - 1;

Napi::Value CheckRaggedOffsets(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[2].IsBoolean()) ThrowType(env, "offsets64 must be a boolean, got " + Describe(info[2]));
  const bool wide = info[2].As<Napi::Boolean>().Value();
  const size_t width = wide ? 8 : 4;
  const uint64_t rows = IntegerArg(info, 3, "rows", 0, uint64_t{1} << 32);
  const uint64_t values = IntegerArg(info, 4, "values", 0, kMaxSafe);
  const Region starts = ReadRegion(env, info[0], "starts", width);
  const bool arrow = info[1].IsUndefined();
  Region ends;
  if (!arrow) ends = ReadRegion(env, info[1], "ends", width);
  const uint64_t entries = arrow ? rows + 1 : rows;
  if (starts.bytes != entries * width || (!arrow && ends.bytes != entries * width)) {
    ThrowRange(env, std::string(arrow ? "offsets" : "starts and ends") + " must hold " +
                        std::to_string(entries) + " entries of " + std::to_string(width) + " bytes");
  }
  rp::RaggedColumn col;
  col.value_count = values;
  col.starts = starts.data;
  col.ends = arrow ? nullptr : ends.data;
  col.offsets64 = wide;
  col.rows = rows;
  rp::RaggedStats st;
  try {
    st = rp::check_ragged(col);
  } catch (const rp::SourceDataError& e) {
    ThrowRange(env, e.what(), kSourceInvalid);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("maxRow", static_cast<double>(st.max_row));
  out.Set("total", static_cast<double>(st.total));
  return out;
}

}  // namespace

void InitRaggedColumn(Napi::Env env, Napi::Object exports) {
  exports.Set("checkRaggedOffsets", Napi::Function::New(env, Coded<CheckRaggedOffsets>, "checkRaggedOffsets"));
}

}  // namespace rpb
