// ScavengePacing: the bytes between pokes grow while scavenges are costly,
// shrink back when they are cheap, and stay within [32 MiB, most].
#include "check.h"
#include "rp/scavenge_pacing.h"

namespace {
constexpr size_t kMiB = size_t{1} << 20;
constexpr int64_t kMs = 1000000;
}  // namespace

TEST(costly_scavenges_double_the_bytes_up_to_most) {
  rp::ScavengePacing p{256 * kMiB};
  CHECK_EQ(p.bytes, 32 * kMiB);
  p.update(4 * kMs, 10 * kMs);  // 4 ms of every 10: costly
  CHECK_EQ(p.bytes, 64 * kMiB);
  for (int i = 0; i < 10; ++i) p.update(4 * kMs, 10 * kMs);
  CHECK_EQ(p.bytes, 256 * kMiB);
}

TEST(cheap_scavenges_halve_the_bytes_down_to_32_MiB) {
  rp::ScavengePacing p{256 * kMiB};
  p.bytes = 256 * kMiB;
  p.update(kMs / 4, 5 * kMs);  // 0.25 ms: a small heap's scavenge
  CHECK_EQ(p.bytes, 128 * kMiB);
  p.update(2 * kMs, 1000 * kMs);  // 2 ms, but 0.2% of the time
  CHECK_EQ(p.bytes, 64 * kMiB);
  for (int i = 0; i < 10; ++i) p.update(0, kMs);
  CHECK_EQ(p.bytes, 32 * kMiB);
}

TEST(in_between_the_bytes_stay) {
  rp::ScavengePacing p{256 * kMiB};
  p.bytes = 64 * kMiB;
  p.update(2 * kMs, 100 * kMs);  // 2 ms, 2% of the time: neither rule
  CHECK_EQ(p.bytes, 64 * kMiB);
  p.update(kMs - 1, 10 * kMs);  // just under 1 ms at 10%: not costly, not cheap
  CHECK_EQ(p.bytes, 64 * kMiB);
}

TEST(a_most_under_32_MiB_means_32_MiB) {
  rp::ScavengePacing p{8 * kMiB};
  p.update(5 * kMs, 6 * kMs);
  CHECK_EQ(p.bytes, 32 * kMiB);
}

RP_TEST_MAIN()
