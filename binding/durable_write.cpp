// writeFileDurable(dir, name, tempName, data, prune?), removeFiles(dir, names)
// and syncDirectory(dir): the core's durable write on a libuv worker thread, as
// promises. After the write is durable, the same job unlinks the `prune` file
// names (retention), so a save with pruning can be one thread-pool trip;
// removeFiles does those unlinks alone. Both resolve with the names that could
// not be removed, as { name, reason }. A failure of the write rejects with an
// Error carrying errno, syscall and path (the TS side adds the errno's name).
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "modules.h"
#include "rp/durable_write.h"
#include "rp/huge_pages.h"

namespace rpb {
namespace {

class IoWorker : public Napi::AsyncWorker {
 public:
  // job returns what it could not prune: the promise's value.
  IoWorker(Napi::Env env, std::function<std::vector<rp::RemoveFailure>()> job)
      : Napi::AsyncWorker(env, "resumable-pipeline:io"),
        deferred_(Napi::Promise::Deferred::New(env)),
        job_(std::move(job)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      failed_ = job_();
    } catch (const rp::IoError& e) {
      errno_ = e.code().value();
      syscall_ = e.syscall();
      path_ = e.path();
      message_ = e.code().message();
      code_ = CodeOf(e);
      SetError(e.what());
    } catch (const std::exception& e) {
      code_ = CodeOf(e);
      SetError(e.what());
    }
  }

  void OnOK() override {
    Napi::Array failed = Napi::Array::New(Env(), failed_.size());
    for (size_t i = 0; i < failed_.size(); ++i) {
      Napi::Object f = Napi::Object::New(Env());
      f.Set("name", failed_[i].name);
      f.Set("reason", std::strerror(failed_[i].error));
      failed.Set(static_cast<uint32_t>(i), f);
    }
    deferred_.Resolve(failed);
  }


  void OnError(const Napi::Error& error) override {
    Napi::Object err = error.Value();
    err.Set("code", Napi::String::New(Env(), code_));  // the TS side gives errno ones a Node-style code
    if (errno_ != 0) {
      err.Set("errno", Napi::Number::New(Env(), errno_));
      err.Set("syscall", Napi::String::New(Env(), syscall_));
      err.Set("path", Napi::String::New(Env(), path_));
      err.Set("description", Napi::String::New(Env(), message_));
    }
    deferred_.Reject(err);
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<std::vector<rp::RemoveFailure>()> job_;
  std::vector<rp::RemoveFailure> failed_;  // written by Execute, read by OnOK after it
  int errno_ = 0;
  const char* code_ = kNativeError;
  std::string syscall_;
  std::string path_;
  std::string message_;
};

// The bytes a write job owns: a copy of the caller's, so JavaScript may detach
// or change its buffer while the worker thread writes. Large copies (a step
// file with model weights) go to huge-page memory: fresh 4 KiB pages cost a
// page fault each, which for tens of MB takes longer than the write itself.
class WriteBuffer {
 public:
  static constexpr size_t kHugeFrom = size_t{4} << 20;

  WriteBuffer(const uint8_t* data, size_t size) : size_(size) {
    if (size >= kHugeFrom) {
      huge_ = static_cast<uint8_t*>(rp::allocate_huge_pages(size));
      std::memcpy(huge_, data, size);
    } else {
      small_.assign(data, data + size);
    }
  }
  WriteBuffer(WriteBuffer&& o) noexcept : small_(std::move(o.small_)), huge_(o.huge_), size_(o.size_) { o.huge_ = nullptr; }
  WriteBuffer(const WriteBuffer&) = delete;
  WriteBuffer& operator=(const WriteBuffer&) = delete;
  WriteBuffer& operator=(WriteBuffer&&) = delete;
  ~WriteBuffer() {
    if (huge_ != nullptr) rp::free_huge_pages(huge_, size_);
  }

  const uint8_t* data() const { return huge_ != nullptr ? huge_ : small_.data(); }
  size_t size() const { return size_; }

 private:
  std::vector<uint8_t> small_;
  uint8_t* huge_ = nullptr;
  size_t size_;
};

// A plain file name: not empty, no '/', not "." or "..".
std::string NameValue(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (!v.IsString()) ThrowType(env, what + " must be a string, got " + Describe(v));
  std::string value = v.As<Napi::String>().Utf8Value();
  if (value.empty() || value == "." || value == ".." || value.find('/') != std::string::npos ||
      value.find('\0') != std::string::npos) {
    ThrowRange(env, what + " must be a file name without '/', got \"" + value + "\"");
  }
  return value;
}

std::string NameArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return NameValue(info.Env(), info[i], name);
}

std::string DirArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  std::string value = StringArg(info, i, name);
  if (value.empty() || value.find('\0') != std::string::npos) {
    ThrowRange(info.Env(), std::string(name) + " must be a non-empty path");
  }
  return value;
}

Napi::Value WriteFileDurable(const Napi::CallbackInfo& info) {
  std::string dir = DirArg(info, 0, "dir");
  std::string name = NameArg(info, 1, "name");
  std::string temp = NameArg(info, 2, "tempName");
  std::vector<std::string> prune;
  if (!info[4].IsUndefined()) {
    if (!info[4].IsArray()) ThrowType(info.Env(), "prune must be an array of file names, got " + Describe(info[4]));
    Napi::Array names = info[4].As<Napi::Array>();
    for (uint32_t i = 0; i < names.Length(); ++i) {
      prune.push_back(NameValue(info.Env(), names.Get(i), "prune[" + std::to_string(i) + "]"));
    }
  }
  // Read last (the prune names can run JavaScript) and copied: the write runs
  // on a worker thread while JavaScript goes on, and could detach the
  // caller's buffer meanwhile.
  Napi::Uint8Array data = Uint8ArrayArg(info, 3, "data");
  auto bytes = std::make_shared<WriteBuffer>(Bytes(data), data.ByteLength());
  auto* worker = new IoWorker(info.Env(), [dir, name, temp, bytes, prune = std::move(prune)] {
    rp::write_file_durable(dir, name, temp, bytes->data(), bytes->size());
    return rp::remove_files(dir, prune);
  });
  worker->Queue();
  return worker->Promise();
}

// removeFiles(dir, names): retention's unlinks on their own, for a store that
// resolves a save once it is durable and prunes afterwards (an unlink of an
// fsynced file can wait on the journal for milliseconds).
Napi::Value RemoveFiles(const Napi::CallbackInfo& info) {
  std::string dir = DirArg(info, 0, "dir");
  if (!info[1].IsArray()) ThrowType(info.Env(), "names must be an array of file names, got " + Describe(info[1]));
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<std::string> names;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    names.push_back(NameValue(info.Env(), list.Get(i), "names[" + std::to_string(i) + "]"));
  }
  auto* worker = new IoWorker(info.Env(), [dir, names = std::move(names)] { return rp::remove_files(dir, names); });
  worker->Queue();
  return worker->Promise();
}

Napi::Value SyncDirectory(const Napi::CallbackInfo& info) {
  std::string dir = DirArg(info, 0, "dir");
  auto* worker = new IoWorker(info.Env(), [dir] {
    rp::sync_directory(dir);
    return std::vector<rp::RemoveFailure>();
  });
  worker->Queue();
  return worker->Promise();
}

}  // namespace

void InitDurableWrite(Napi::Env env, Napi::Object exports) {
  exports.Set("writeFileDurable", Napi::Function::New(env, Coded<WriteFileDurable>));
  exports.Set("removeFiles", Napi::Function::New(env, Coded<RemoveFiles>));
  exports.Set("syncDirectory", Napi::Function::New(env, Coded<SyncDirectory>));
}

}  // namespace rpb
