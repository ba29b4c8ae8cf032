#include "external_count.h"

#include <algorithm>
#include <mutex>
#include <unordered_map>

namespace rpb {
namespace {

struct Ledger {
  size_t owed = 0;
  size_t hidden = 0;        // bytes hidden for buffers still alive
  int64_t low = INT64_MAX;  // the lowest count seen
  size_t largest = 0;       // the largest hand-out hidden (see ExternalBand)
};

// Node 22 and later (V8 12) CHECK that the count never goes below zero, and
// V8 takes every hidden buffer's bytes out once more when it sweeps it: there
// the count must always cover what is hidden or owed. Node 20's V8 lets it go
// below zero (the count only compares with its own past values).
bool MustStayCovered(napi_env env) {
  static const bool covered = [env] {
    const napi_node_version* v = nullptr;
    return napi_get_node_version(env, &v) != napi_ok || v == nullptr || v->major >= 22;
  }();
  return covered;
}

std::mutex& LedgerMutex() {
  static auto* mu = new std::mutex;  // never destroyed: finalizers may run at exit
  return *mu;
}
std::unordered_map<napi_env, Ledger>& Ledgers() {
  static auto* ledgers = new std::unordered_map<napi_env, Ledger>;
  return *ledgers;
}

void Forget(void* env) {
  std::lock_guard<std::mutex> lock(LedgerMutex());
  Ledgers().erase(static_cast<napi_env>(env));
}

// Every ledger's environment gets a cleanup hook when its ledger is made.
Ledger& LedgerOf(napi_env env) {
  auto [it, added] = Ledgers().try_emplace(env);
  if (added) napi_add_env_cleanup_hook(env, Forget, env);
  return it->second;
}

int64_t Adjust(napi_env env, int64_t change) {
  int64_t amount = 0;
  napi_adjust_external_memory(env, change, &amount);
  return amount;
}

}  // namespace

bool HideExternal(Napi::Env env, size_t bytes) {
  std::lock_guard<std::mutex> lock(LedgerMutex());
  Ledger& l = LedgerOf(env);
  if (l.owed >= kMaxOwedBytes) {
    if (MustStayCovered(env)) {
      // The buffer counts; that repays its bytes. The count is where it is.
      l.owed -= std::min(l.owed, bytes);
      l.low = Adjust(env, 0);
      return false;
    }
    // Node 20: forgiven. The count stays lower than the truth by that much
    // (what a full collection's sweep took out at once, past the band), which
    // starts no collection; raising it back could.
    l.owed = 0;
  }
  if (MustStayCovered(env) &&
      Adjust(env, 0) - static_cast<int64_t>(bytes) < static_cast<int64_t>(l.hidden + l.owed + bytes)) {
    return false;  // the count could not absorb V8 sweeping all of it
  }
  const int64_t amount = Adjust(env, -static_cast<int64_t>(bytes));
  l.hidden += bytes;
  l.largest = std::max(l.largest, bytes);
  l.low = std::min(l.low, amount);
  const int64_t room = l.low + ExternalBand(l.largest) - amount;
  if (room > 0 && l.owed > 0) {
    const size_t repay = std::min(l.owed, static_cast<size_t>(room));
    l.owed -= repay;
    Adjust(env, static_cast<int64_t>(repay));
  }
  return true;
}

void OweExternal(napi_env env, size_t bytes) {
  std::lock_guard<std::mutex> lock(LedgerMutex());
  // No ledger: the environment is going (its cleanup hook ran); nothing to repay.
  auto it = Ledgers().find(env);
  if (it == Ledgers().end()) return;
  it->second.hidden -= std::min(it->second.hidden, bytes);
  it->second.owed += bytes;
}

}  // namespace rpb
