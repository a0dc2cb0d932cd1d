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

// A shape read from JS: its axes, at most kMaxRank of them.
struct Shape {
  static constexpr int kMaxRank = 8;
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t operator[](int axis) const { return dims[axis]; }
  int64_t size() const;
  // "[2, 3, 4]", for messages.
  std::string str() const;
};

// [rows, dim] of a tensor over its last axis (dim >= 1), the layout of row-wise kernels.
Rows rowsOf(const Shape& shape, const char* name);

// One call of a fused kernel, the convention every kernel that implements one of core's
// kernel objects follows (registered with SHIFTMIX_KERNEL under the object's name):
//   fn(inputs: Float32Array[], outputs: Float32Array[], inputShapes: number[][], attrs: object)
// inputs and outputs in the order of the kernel's contract (its `inputs`, `outputs`), each
// input's shape, and the attributes by name. Everything is read when a kernel asks for it,
// so a call costs only the reads its kernel makes.
class KernelCall {
 public:
  // Checks the four arguments' kinds: arrays, and an object of attributes.
  KernelCall(napi_env env, const napi_value* args);
  // Input i's floats, checked to hold the `extent` the kernel reads; `name` is the contract's.
  const float* input(uint32_t i, const char* name, int64_t extent) const;
  // Output i's floats, checked to hold the `extent` the kernel writes.
  float* output(uint32_t i, const char* name, int64_t extent) const;
  // Input i's shape.
  Shape shape(uint32_t i, const char* name) const;
  // A number attribute; an Error names it when it is missing or not a number.
  double number(const char* attr) const;
  // A list of whole numbers (shifts, axes), from an Array or an Int32Array.
  std::vector<int32_t> ints(const char* attr) const;

 private:
  napi_value attr(const char* name) const;
  napi_env env_;
  napi_value inputs_, outputs_, shapes_, attrs_;
};

using KernelBody = void (*)(const KernelCall& call);

// A fused kernel's registration: its body under its kernel object's name. The addon exports
// them all as `fused` (name -> function), which the package's glue implements by name.
struct KernelRegistration {
  const char* name;
  KernelBody body;
  KernelRegistration(const char* name, KernelBody body);
};
std::vector<const KernelRegistration*>& kernelRegistrations();

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
// Adds every registered binding to exports, and the fused kernels to exports.fused; a name
// registered twice is an Error.
void exportBindings(napi_env env, napi_value exports);

}  // namespace shiftmix::napi

#define SHIFTMIX_CONCAT_(a, b) a##b
#define SHIFTMIX_CONCAT(a, b) SHIFTMIX_CONCAT_(a, b)
// SHIFTMIX_BINDING("gemm", Gemm); at namespace scope, at the bottom of the kernel's file:
// registers the callback under its JS name when the addon loads (static initialization).
#define SHIFTMIX_BINDING(name, callback) \
  static const ::shiftmix::napi::Registration SHIFTMIX_CONCAT(shiftmixBinding, __LINE__)(name, callback)
// SHIFTMIX_KERNEL("ShiftmixName", Name); at namespace scope, Name a KernelBody: registers the
// kernel under its kernel object's name (core's `kernel.name`, exactly), which is all the
// package needs to implement that object under wasm.
#define SHIFTMIX_KERNEL(name, body) \
  static const ::shiftmix::napi::KernelRegistration SHIFTMIX_CONCAT(shiftmixKernel, __LINE__)(name, body)
