// Argument handling shared by the bindings: every view is checked against the extent
// a call reaches before a kernel runs, so a wrong shape throws instead of writing past it.
#pragma once
#include <node_api.h>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

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

// [rows, dim] of a row-wise call, rows >= 0 and dim >= 1.
struct Rows {
  int64_t rows;
  int dim;
  int64_t size() const { return rows * dim; }
};
Rows rowsOf(napi_env env, napi_value rows, napi_value dim);

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

// The addon's functions. Each kernel's file registers its own (SHIFTMIX_BINDING at its
// bottom) and the module's init exports them all, so adding a kernel edits no list.
struct Binding {
  const char* name;
  napi_callback callback;
};
// Function-local, so it exists before the first registration whatever order the files'
// static initializers run in.
std::vector<Binding>& bindings();
struct Registration {
  Registration(const char* name, napi_callback callback) { bindings().push_back({name, callback}); }
};
// Adds every registered binding to exports; a name registered twice is an Error.
void exportBindings(napi_env env, napi_value exports);

}  // namespace shiftmix::napi

#define SHIFTMIX_CONCAT_(a, b) a##b
#define SHIFTMIX_CONCAT(a, b) SHIFTMIX_CONCAT_(a, b)
// SHIFTMIX_BINDING("gemm", Gemm); at namespace scope, at the bottom of the kernel's file:
// registers the callback under its JS name when the addon loads (static initialization).
#define SHIFTMIX_BINDING(name, callback) \
  static const ::shiftmix::napi::Registration SHIFTMIX_CONCAT(shiftmixBinding, __LINE__)(name, callback)
