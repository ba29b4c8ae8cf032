// lockFile(path) -> fd, or -1 when another writer holds it; unlockFile(fd).
#include "args.h"
#include "modules.h"
#include "rp/file_lock.h"

#include <system_error>

namespace rpb {
namespace {

Napi::Value LockFile(const Napi::CallbackInfo& info) {
  std::string path = StringArg(info, 0, "path");
  try {
    return Napi::Number::New(info.Env(), rp::try_lock_file(path));
  } catch (...) {
    ThrowNative(info.Env());  // a std::system_error: RP_SYSTEM_ERROR with errno
  }
}

Napi::Value UnlockFile(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(IntegerArg(info, 0, "fd", 0, 0x7fffffff));
  rp::unlock_file(fd);
  return info.Env().Undefined();
}

}  // namespace

void InitFileLock(Napi::Env env, Napi::Object exports) {
  exports.Set("lockFile", Napi::Function::New(env, Coded<LockFile>));
  exports.Set("unlockFile", Napi::Function::New(env, Coded<UnlockFile>));
}

}  // namespace rpb
