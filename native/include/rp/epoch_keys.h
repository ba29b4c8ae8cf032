// The keys the loader derives from its seed, so that nothing random needs
// saving: each is a chain of fold_in over key_from_seed(seed).
//   order key of epoch e:  fold_in(fold_in(fold_in(K, 0), lo(e)), hi(e))
//   batch key:             fold_in(fold_in(fold_in(fold_in(fold_in(K, 1),
//                              lo(e)), hi(e)), lo(r)), hi(r))
// where K = key_from_seed(seed), lo/hi are the 32-bit halves, and r is the
// batch's first record index (n for an empty batch, which no record has).
//   repeat key of a mix's source s, repeat r (rp::Mix):
//                          fold_in(fold_in(fold_in(fold_in(fold_in(K, 2),
//                              lo(s)), hi(s)), lo(r)), hi(r))
#pragma once
#include <cstdint>

#include "rp/random.h"

namespace rp {

Key order_key(uint64_t seed, uint64_t epoch);
Key batch_key(uint64_t seed, uint64_t epoch, uint64_t first_record);
Key repeat_key(uint64_t seed, uint64_t source, uint64_t repeat);

}  // namespace rp
