// packConcat and packFirstFit: packSequences' copy of one inner batch's rows
// (rp::pack_concat, rp::pack_first_fit). Positions and counters travel in a
// small Float64Array the caller keeps, so no object is made per call.
#include <cmath>
#include <string>

#include "args.h"
#include "modules.h"
#include "rp/pack.h"

namespace rpb {
namespace {

struct Args {
  rp::PackRows rows;
  rp::PackOut out;
  double* state;
};

uint64_t Slot(Napi::Env env, double v, const char* name, uint64_t max) {
  if (!(v >= 0) || v > static_cast<double>(max) || std::floor(v) != v) {
    ThrowRange(env, std::string(name) + " must be an integer in [0, " + std::to_string(max) + "], got " + std::to_string(v));
  }
  return static_cast<uint64_t>(v);
}

// (values, offsets, state, length, tokens, segmentIds, positions, ...)
Args Read(const Napi::CallbackInfo& info, size_t state_slots) {
  Napi::Env env = info.Env();
  const View values = ViewArg(info, 0, "values");
  const View offsets = ViewArg(info, 1, "offsets");
  const View state = ViewArg(info, 2, "state");
  const uint64_t length = IntegerArg(info, 3, "length", 1, 0x7fffffff);
  const View tokens = ViewArg(info, 4, "tokens");
  const View seg = ViewArg(info, 5, "segmentIds");
  const View pos = ViewArg(info, 6, "positions");
  if (offsets.type != napi_int32_array || offsets.length < 1) ThrowType(env, "offsets must be an Int32Array of rows + 1 entries");
  if (state.type != napi_float64_array || state.length < state_slots) ThrowType(env, "state must be a Float64Array of " + std::to_string(state_slots));
  if (tokens.type != values.type) ThrowType(env, "tokens must be the values' TypedArray type");
  if (seg.type != napi_int32_array || pos.type != napi_int32_array) ThrowType(env, "segmentIds and positions must be Int32Arrays");
  if (seg.length != tokens.length || pos.length != tokens.length || tokens.length % length != 0) {
    ThrowRange(env, "tokens, segmentIds and positions must hold one whole number of sequences of length " + std::to_string(length));
  }
  Args a;
  a.rows = rp::PackRows{values.data, values.length, reinterpret_cast<const int32_t*>(offsets.data), offsets.length - 1,
                        values.element_size};
  a.out = rp::PackOut{tokens.data, reinterpret_cast<int32_t*>(seg.data), reinterpret_cast<int32_t*>(pos.data), length,
                      tokens.length};
  a.state = reinterpret_cast<double*>(state.data);
  return a;
}

// packConcat(values, offsets, state [row, offset, at, segment], length, tokens, segmentIds, positions)
Napi::Value Concat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args a = Read(info, 4);
  rp::PackCursor cursor{Slot(env, a.state[0], "state[0] (row)", a.rows.rows), Slot(env, a.state[1], "state[1] (offset)", UINT32_MAX)};
  uint64_t at = Slot(env, a.state[2], "state[2] (slot)", a.out.capacity);
  int32_t segment = static_cast<int32_t>(Slot(env, a.state[3], "state[3] (segment)", 0x7fffffff));
  rp::pack_concat(a.rows, &cursor, a.out, &at, &segment);
  a.state[0] = static_cast<double>(cursor.row);
  a.state[1] = static_cast<double>(cursor.offset);
  a.state[2] = static_cast<double>(at);
  a.state[3] = segment;
  return env.Undefined();
}

// packFirstFit(values, offsets, state [row, offset, open], length, tokens, segmentIds, positions, used, segments) -> full
Napi::Value FirstFit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Args a = Read(info, 3);
  const uint64_t bins = a.out.capacity / a.out.length;
  const View used = ViewArg(info, 7, "used");
  const View segments = ViewArg(info, 8, "segments");
  if (used.type != napi_int32_array || segments.type != napi_int32_array || used.length != bins || segments.length != bins) {
    ThrowType(env, "used and segments must be Int32Arrays of one entry per sequence");
  }
  int32_t* u = reinterpret_cast<int32_t*>(used.data);
  for (uint64_t b = 0; b < bins; ++b) {
    if (u[b] < 0 || static_cast<uint64_t>(u[b]) > a.out.length) ThrowRange(env, "used[" + std::to_string(b) + "] is outside [0, length]");
  }
  rp::PackCursor cursor{Slot(env, a.state[0], "state[0] (row)", a.rows.rows), Slot(env, a.state[1], "state[1] (offset)", UINT32_MAX)};
  uint64_t open = Slot(env, a.state[2], "state[2] (open)", bins);
  const bool full = rp::pack_first_fit(a.rows, &cursor, a.out, &open, u, reinterpret_cast<int32_t*>(segments.data));
  a.state[0] = static_cast<double>(cursor.row);
  a.state[1] = static_cast<double>(cursor.offset);
  a.state[2] = static_cast<double>(open);
  return Napi::Boolean::New(env, full);
}

}  // namespace

void InitPack(Napi::Env env, Napi::Object exports) {
  exports.Set("packConcat", Napi::Function::New(env, Coded<Concat>));
  exports.Set("packFirstFit", Napi::Function::New(env, Coded<FirstFit>));
}

}  // namespace rpb
