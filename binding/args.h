// Argument checks shared by the binding's functions. Every check throws a
// TypeError or RangeError whose message names the argument, so bad input from
// JavaScript never reaches the core (and never crashes the process).
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

namespace rpb {

// Every error from the binding carries a stable `code`; RP_INVALID_ARGUMENT
// unless a more specific one applies.
constexpr const char* kInvalidArgument = "RP_INVALID_ARGUMENT";
constexpr const char* kBufferDetached = "RP_BUFFER_DETACHED";
constexpr const char* kBufferResizable = "RP_BUFFER_RESIZABLE";
constexpr const char* kBufferOverlap = "RP_BUFFER_OVERLAP";
// Bad data in a source (ragged offsets out of bounds), src/error-codes.ts SOURCE_INVALID.
constexpr const char* kSourceInvalid = "RP_SOURCE_INVALID";
// C++ exceptions that reach JavaScript (see NativeError below).
constexpr const char* kOutOfMemory = "RP_OUT_OF_MEMORY";
constexpr const char* kSystemError = "RP_SYSTEM_ERROR";
constexpr const char* kNativeError = "RP_NATIVE_ERROR";

template <typename E>
[[noreturn]] void ThrowWithCode(Napi::Env env, const std::string& msg, const char* code) {
  E err = E::New(env, msg);
  err.Set("code", Napi::String::New(env, code));
  throw err;
}
[[noreturn]] inline void ThrowType(Napi::Env env, const std::string& msg,
                                   const char* code = kInvalidArgument) {
  ThrowWithCode<Napi::TypeError>(env, msg, code);
}
[[noreturn]] inline void ThrowRange(Napi::Env env, const std::string& msg,
                                    const char* code = kInvalidArgument) {
  ThrowWithCode<Napi::RangeError>(env, msg, code);
}
[[noreturn]] inline void ThrowError(Napi::Env env, const std::string& msg, const char* code) {
  ThrowWithCode<Napi::Error>(env, msg, code);
}

// The one mapping of C++ exceptions to coded JavaScript errors. Without it,
// node-addon-api (NODE_ADDON_API_CPP_EXCEPTIONS_ALL) would turn them into
// plain Errors without a code:
//   std::bad_alloc                       -> Error, RP_OUT_OF_MEMORY
//   std::system_error (and rp::IoError)  -> Error, RP_SYSTEM_ERROR, with `errno`
//   std::invalid_argument, out_of_range  -> RangeError, RP_INVALID_ARGUMENT
//   anything else                        -> Error, RP_NATIVE_ERROR
// CodeOf is safe off the JavaScript thread (an AsyncWorker's Execute).
inline const char* CodeOf(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) return kOutOfMemory;
  if (dynamic_cast<const std::system_error*>(&e) != nullptr) return kSystemError;
  if (dynamic_cast<const std::invalid_argument*>(&e) != nullptr ||
      dynamic_cast<const std::out_of_range*>(&e) != nullptr) {
    return kInvalidArgument;
  }
  return kNativeError;
}

inline Napi::Error NativeError(Napi::Env env, const std::exception& e) {
  const char* code = CodeOf(e);
  std::string msg = e.what();
  if (code == kOutOfMemory) msg = "out of memory (" + msg + ")";
  Napi::Error err = code == kInvalidArgument ? Napi::RangeError::New(env, msg)
                                             : Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, code));
  if (auto* se = dynamic_cast<const std::system_error*>(&e)) {
    err.Set("errno", Napi::Number::New(env, se->code().value()));
  }
  return err;
}

// Call from a catch block: rethrows a Napi::Error as it is, and any other
// exception as its coded JavaScript error.
[[noreturn]] inline void ThrowNative(Napi::Env env) {
  try {
    throw;
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw NativeError(env, e);
  } catch (...) {
    ThrowError(env, "a native exception was thrown", kNativeError);
  }
}

// A binding function whose C++ exceptions reach JavaScript coded:
// Napi::Function::New(env, Coded<F>).
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Coded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (...) {
    ThrowNative(info.Env());
  }
}

// The same for an ObjectWrap's methods: declare RPB_CODED_METHODS(Class) in the
// class, then InstanceMethod<&Class::Coded<&Class::Method>>("name").
#define RPB_CODED_METHODS(Class)                                     \
  template <Napi::Value (Class::*M)(const Napi::CallbackInfo&)>      \
  Napi::Value Coded(const Napi::CallbackInfo& info) {                \
    try {                                                            \
      return (this->*M)(info);                                       \
    } catch (...) {                                                  \
      ::rpb::ThrowNative(info.Env());                                \
    }                                                                \
  }

inline std::string Describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) return "a TypedArray";
  if (v.IsArray()) return "an array";
  if (v.IsNumber()) return "number " + v.ToString().Utf8Value();
  if (v.IsBigInt()) return "a bigint";
  if (v.IsString()) return "a string";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsFunction()) return "a function";
  return "an object";
}

// An integer in [min, max] (max <= 2^53), given as a JS number.
inline uint64_t IntegerArg(const Napi::CallbackInfo& info, size_t i,
                           const char* name, uint64_t min, uint64_t max) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) {
    ThrowType(info.Env(), std::string(name) + " must be a number, got " + Describe(v));
  }
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) {
    ThrowRange(info.Env(), std::string(name) + " must be an integer, got " +
                               v.ToString().Utf8Value());
  }
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    ThrowRange(info.Env(), std::string(name) + " must be in [" + std::to_string(min) +
                               ", " + std::to_string(max) + "], got " +
                               v.ToString().Utf8Value());
  }
  return static_cast<uint64_t>(d);
}

// A TypedArray that is attached; kind checks are left to the caller.
inline Napi::TypedArray TypedArrayArg(const Napi::CallbackInfo& info, size_t i,
                                      const char* name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray()) {
    ThrowType(info.Env(), std::string(name) + " must be a TypedArray, got " + Describe(v));
  }
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  if (ta.ArrayBuffer().IsDetached()) {
    ThrowType(info.Env(), std::string(name) + " is backed by a detached ArrayBuffer",
              kBufferDetached);
  }
  return ta;
}

// A TypedArray argument of one element type; `kind` names it in the message.
template <typename T>
inline T TypedArrayArgOf(const Napi::CallbackInfo& info, size_t i, const char* name,
                         napi_typedarray_type type, const char* kind) {
  Napi::TypedArray ta = TypedArrayArg(info, i, name);
  if (ta.TypedArrayType() != type) ThrowType(info.Env(), std::string(name) + " must be a " + kind);
  return ta.As<T>();
}

inline Napi::Uint32Array Uint32ArrayArg(const Napi::CallbackInfo& info, size_t i,
                                        const char* name) {
  return TypedArrayArgOf<Napi::Uint32Array>(info, i, name, napi_uint32_array, "Uint32Array");
}

inline Napi::Uint8Array Uint8ArrayArg(const Napi::CallbackInfo& info, size_t i,
                                      const char* name) {
  return TypedArrayArgOf<Napi::Uint8Array>(info, i, name, napi_uint8_array, "Uint8Array");
}

// A TypedArray argument read with one napi_get_typedarray_info call, for hot
// paths called once per batch (each N-API call costs tens of ns). Same checks
// and messages as TypedArrayArg.
struct View {
  napi_typedarray_type type;
  size_t length;      // elements
  size_t element_size;
  uint8_t* data;      // first element (byte offset applied)
};

inline size_t ElementSize(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return 1;
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    default:
      return 8;  // Float64Array, BigInt64Array, BigUint64Array
  }
}

inline View ViewOf(Napi::Env env, napi_value v, const char* name) {
  bool is_typed_array = false;
  if (napi_is_typedarray(env, v, &is_typed_array) != napi_ok || !is_typed_array) {
    ThrowType(env, std::string(name) + " must be a TypedArray, got " + Describe(Napi::Value(env, v)));
  }
  View view{};
  void* data = nullptr;
  napi_value buffer = nullptr;
  size_t offset = 0;
  NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, v, &view.type, &view.length, &data,
                                                     &buffer, &offset),
                       View{});
  // A detached buffer reads as length 0, so only then is the check needed.
  if (view.length == 0) {
    bool detached = false;
    NAPI_THROW_IF_FAILED(env, napi_is_detached_arraybuffer(env, buffer, &detached), View{});
    if (detached) {
      ThrowType(env, std::string(name) + " is backed by a detached ArrayBuffer", kBufferDetached);
    }
  }
  view.element_size = ElementSize(view.type);
  view.data = static_cast<uint8_t*>(data);
  return view;
}

inline View ViewArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return ViewOf(info.Env(), info[i], name);
}

inline uint8_t* Bytes(const Napi::TypedArray& ta) {
  return static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
}

inline std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsString()) {
    ThrowType(info.Env(), std::string(name) + " must be a string, got " + Describe(v));
  }
  return v.As<Napi::String>().Utf8Value();
}

}  // namespace rpb
