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
  } catch (const std::system_error& e) {
    Napi::Error err = Napi::Error::New(info.Env(), e.what());
    err.Set("errno", Napi::Number::New(info.Env(), e.code().value()));
    throw err;
  }
}

Napi::Value UnlockFile(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(IntegerArg(info, 0, "fd", 0, 0x7fffffff));
  rp::unlock_file(fd);
  return info.Env().Undefined();
}

}  // namespace

void InitFileLock(Napi::Env env, Napi::Object exports) {
  exports.Set("lockFile", Napi::Function::New(env, LockFile));
  exports.Set("unlockFile", Napi::Function::New(env, UnlockFile));
}

}  // namespace rpb
