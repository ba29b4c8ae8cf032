// Key derivation for the loader; the chains are documented in the header.
#include "rp/epoch_keys.h"

namespace rp {
namespace {

constexpr uint32_t kOrderTag = 0;
constexpr uint32_t kBatchTag = 1;
constexpr uint32_t kRepeatTag = 2;

Key fold_in_u64(Key k, uint64_t v) {
  return fold_in(fold_in(k, static_cast<uint32_t>(v)), static_cast<uint32_t>(v >> 32));
}

}  // namespace

Key order_key(uint64_t seed, uint64_t epoch) {
  return fold_in_u64(fold_in(key_from_seed(seed), kOrderTag), epoch);
}

Key batch_key(uint64_t seed, uint64_t epoch, uint64_t first_record) {
  return fold_in_u64(fold_in_u64(fold_in(key_from_seed(seed), kBatchTag), epoch), first_record);
}

Key repeat_key(uint64_t seed, uint64_t source, uint64_t repeat) {
  return fold_in_u64(fold_in_u64(fold_in(key_from_seed(seed), kRepeatTag), source), repeat);
}

}  // namespace rp
