// mixInfo(spec) and mixLocate(spec, i): what MixedSource asks the core about
// its mix (rp::Mix); the prefetch queue reads the same spec for its columns.
#include "mix.h"

#include <cmath>
#include <vector>

#include "args.h"
#include "modules.h"

namespace rpb {

std::shared_ptr<const rp::Mix> ReadMix(Napi::Env env, Napi::Value spec, const std::string& name) {
  if (!spec.IsObject()) ThrowType(env, name + " must be { rows, weights, seed }, got " + Describe(spec));
  Napi::Object o = spec.As<Napi::Object>();
  Napi::Value rows_v = o.Get("rows");
  Napi::Value weights_v = o.Get("weights");
  if (!rows_v.IsArray() || !weights_v.IsArray()) ThrowType(env, name + ".rows and .weights must be arrays");
  Napi::Array rows_a = rows_v.As<Napi::Array>();
  Napi::Array weights_a = weights_v.As<Napi::Array>();
  if (rows_a.Length() != weights_a.Length() || rows_a.Length() == 0 || rows_a.Length() > rp::Mix::kMaxSources) {
    ThrowRange(env, name + " needs 1 to " + std::to_string(rp::Mix::kMaxSources) + " sources, one weight each");
  }
  std::vector<uint64_t> rows;
  std::vector<double> weights;
  for (uint32_t k = 0; k < rows_a.Length(); ++k) {
    Napi::Value r = rows_a.Get(k);
    Napi::Value w = weights_a.Get(k);
    const double rd = r.IsNumber() ? r.As<Napi::Number>().DoubleValue() : -1;
    if (!(rd >= 1 && rd <= static_cast<double>(rp::Mix::kMaxLength)) || std::floor(rd) != rd) {
      ThrowRange(env, name + ".rows[" + std::to_string(k) + "] must be an integer in [1, 2^32], got " + Describe(r));
    }
    const double wd = w.IsNumber() ? w.As<Napi::Number>().DoubleValue() : -1;
    if (!(wd > 0) || !std::isfinite(wd)) {
      ThrowRange(env, name + ".weights[" + std::to_string(k) + "] must be a positive finite number, got " + Describe(w));
    }
    rows.push_back(static_cast<uint64_t>(rd));
    weights.push_back(wd);
  }
  Napi::Value seed_v = o.Get("seed");
  if (!seed_v.IsBigInt()) ThrowType(env, name + ".seed must be a bigint, got " + Describe(seed_v));
  bool lossless = false;
  const uint64_t seed = seed_v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) ThrowRange(env, name + ".seed must be in [0, 2^64)");
  try {
    return std::make_shared<const rp::Mix>(std::move(rows), weights, seed);
  } catch (const std::invalid_argument& e) {
    ThrowRange(env, name + ": " + e.what());
  }
}

namespace {

// mixInfo(spec) -> { lengthFirst, lengthAll, windowBound }
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto mix = ReadMix(env, info[0], "spec");
  Napi::Object out = Napi::Object::New(env);
  out.Set("lengthFirst", Napi::Number::New(env, static_cast<double>(mix->length_until_first())));
  out.Set("lengthAll", Napi::Number::New(env, static_cast<double>(mix->length_until_all())));
  out.Set("windowBound", Napi::Number::New(env, mix->window_bound()));
  return out;
}

// mixLocate(spec, indices: Uint32Array, sources: Uint32Array, rows: Float64Array):
// for each record index, its source and its row in that source (repeats mapped).
Napi::Value Locate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto mix = ReadMix(env, info[0], "spec");
  Napi::Uint32Array idx = Uint32ArrayArg(info, 1, "indices");
  Napi::Uint32Array sources = Uint32ArrayArg(info, 2, "sources");
  Napi::TypedArray rows_t = TypedArrayArg(info, 3, "rows");
  if (rows_t.TypedArrayType() != napi_float64_array) ThrowType(env, "rows must be a Float64Array");
  const size_t n = idx.ElementLength();
  if (sources.ElementLength() != n || rows_t.ElementLength() != n) ThrowRange(env, "indices, sources and rows must have one length");
  double* rows = reinterpret_cast<double*>(Bytes(rows_t));
  std::vector<uint32_t> global(n);
  mix->rows(idx.Data(), n, global.data());
  for (size_t j = 0; j < n; ++j) {
    uint64_t nth;
    const size_t k = mix->source_of(idx[j], &nth);
    sources[j] = static_cast<uint32_t>(k);
    rows[j] = static_cast<double>(global[j] - mix->base(k));
  }
  return env.Undefined();
}

}  // namespace

void InitMix(Napi::Env env, Napi::Object exports) {
  exports.Set("mixInfo", Napi::Function::New(env, Coded<Info>));
  exports.Set("mixLocate", Napi::Function::New(env, Coded<Locate>));
}

}  // namespace rpb
