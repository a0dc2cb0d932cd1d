// Argument handling shared by the bindings: every view is checked against the extent
// a call reaches before a kernel runs, so a wrong shape throws instead of writing past it.
#pragma once
#include <node_api.h>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>

namespace shiftmix::napi {

struct Error {
  std::string message;
};

struct View {
  float* data = nullptr;
  size_t length = 0;
};

struct IntView {
  int32_t* data = nullptr;
  size_t length = 0;
};

void argsOf(napi_env env, napi_callback_info info, size_t expected, napi_value* storage);
View viewOf(napi_env env, napi_value value, const char* name, bool nullable = false);
IntView intViewOf(napi_env env, napi_value value, const char* name);
double numberOf(napi_env env, napi_value value, const char* name);
void needs(size_t length, int64_t extent, const char* name);
inline void needs(const View& v, int64_t extent, const char* name) { needs(v.length, extent, name); }
napi_value undefinedOf(napi_env env);
// Adds each (name, function) to exports.
void defineFunctions(napi_env env, napi_value exports, std::initializer_list<std::pair<const char*, napi_callback>> functions);

template <typename Body>
napi_value guarded(napi_env env, Body body) {
  try {
    return body();
  } catch (const Error& e) {
    napi_throw_range_error(env, "E_NATIVE", ("shiftmix native: " + e.message).c_str());
    return nullptr;
  }
}

// A binding's body: reads its `count` arguments, runs body(args) and returns what it
// returns (undefined for void), turning an Error into a RangeError.
template <size_t count, typename Body>
napi_value withArgs(napi_env env, napi_callback_info info, Body body) {
  return guarded(env, [&]() -> napi_value {
    napi_value args[count];
    argsOf(env, info, count, args);
    if constexpr (std::is_void_v<decltype(body(args))>) {
      body(args);
      return undefinedOf(env);
    } else {
      return body(args);
    }
  });
}

// Adds the training kernels' functions (layer norm, bias + GELU, loss, AdamW) to exports.
void defineTrainingKernels(napi_env env, napi_value exports);
// Adds the shift mixers' functions (hsm-ab, learned-fusion blend) to exports.
void defineShiftKernels(napi_env env, napi_value exports);

}  // namespace shiftmix::napi
