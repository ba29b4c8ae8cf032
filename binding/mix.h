// A mix spec from JavaScript ({ rows: number[], weights: number[], seed: bigint })
// as an rp::Mix: shared by the prefetch queue (mixed columns) and the mix functions.
#pragma once
#include <memory>
#include <string>

#include <napi.h>

#include "rp/mix.h"

namespace rpb {

std::shared_ptr<const rp::Mix> ReadMix(Napi::Env env, Napi::Value spec, const std::string& name);

}  // namespace rpb
