#include "napi-util.h"
#include <cmath>
#include <limits>
#include <set>
#include <string>

namespace shiftmix::napi {

void argsOf(napi_env env, napi_callback_info info, size_t expected, napi_value* storage) {
  size_t count = expected;
  napi_get_cb_info(env, info, &count, storage, nullptr, nullptr);
  if (count < expected) throw Error{"expected " + std::to_string(expected) + " arguments, got " + std::to_string(count)};
}

// The data and length of a typed array of the given type, or an error naming the argument.
static void* typedDataOf(napi_env env, napi_value value, napi_typedarray_type want, const char* name, const char* what, size_t* length) {
  bool isTyped = false;
  napi_is_typedarray(env, value, &isTyped);
  napi_typedarray_type type;
  void* data = nullptr;
  if (isTyped) napi_get_typedarray_info(env, value, &type, length, &data, nullptr, nullptr);
  if (!isTyped || type != want) throw Error{std::string(name) + " must be " + what};
  return data;
}

View viewOf(napi_env env, napi_value value, const char* name, bool nullable) {
  napi_valuetype kind;
  napi_typeof(env, value, &kind);
  if (nullable && (kind == napi_null || kind == napi_undefined)) return {};
  View v;
  v.data = static_cast<float*>(typedDataOf(env, value, napi_float32_array, name, "a Float32Array", &v.length));
  return v;
}

IntView intViewOf(napi_env env, napi_value value, const char* name) {
  IntView v;
  v.data = static_cast<int32_t*>(typedDataOf(env, value, napi_int32_array, name, "an Int32Array", &v.length));
  return v;
}

double numberOf(napi_env env, napi_value value, const char* name) {
  double out = 0;
  if (napi_get_value_double(env, value, &out) != napi_ok) throw Error{std::string(name) + " must be a number"};
  return out;
}

void needs(size_t length, int64_t extent, const char* name) {
  if (extent < 0 || static_cast<size_t>(extent) > length)
    throw Error{std::string(name) + " holds " + std::to_string(length) + " floats, the call reaches " + std::to_string(extent)};
}

Rows rowsOf(napi_env env, napi_value rows, napi_value dim) {
  const Rows r{static_cast<int64_t>(numberOf(env, rows, "rows")), static_cast<int>(numberOf(env, dim, "dim"))};
  if (r.rows < 0 || r.dim < 1) throw Error{"rows must be >= 0 and dim >= 1"};
  return r;
}

int64_t Shape::size() const {
  int64_t out = 1;
  for (int a = 0; a < rank; a++) out *= dims[a];
  return out;
}

std::string Shape::str() const {
  std::string out = "[";
  for (int a = 0; a < rank; a++) out += (a ? ", " : "") + std::to_string(dims[a]);
  return out + "]";
}

Rows rowsOf(const Shape& shape, const char* name) {
  if (shape.rank < 1 || shape[shape.rank - 1] < 1)
    throw Error{std::string(name) + " must have a last axis of at least 1, got shape " + shape.str()};
  const int64_t dim = shape[shape.rank - 1];
  return {shape.size() / dim, static_cast<int>(dim)};
}

// Element i of a JS array (the call's inputs, outputs or shapes, a shape, a list attribute).
static napi_value elementOf(napi_env env, napi_value list, uint32_t i) {
  napi_value out;
  napi_get_element(env, list, i, &out);
  return out;
}

static bool isArray(napi_env env, napi_value value) {
  bool out = false;
  return napi_is_array(env, value, &out) == napi_ok && out;
}

// Whether value is a whole number in [least, T's max], written to out; messages are the caller's,
// built only on failure (the reads run on every kernel call).
template <typename T>
static bool wholeOf(napi_env env, napi_value value, T least, T* out) {
  double v = 0;
  if (napi_get_value_double(env, value, &v) != napi_ok || v != std::floor(v) || v < static_cast<double>(least) ||
      v > static_cast<double>(std::numeric_limits<T>::max()))
    return false;
  *out = static_cast<T>(v);
  return true;
}

KernelCall::KernelCall(napi_env env, const napi_value* args) : env_(env), inputs_(args[0]), outputs_(args[1]), shapes_(args[2]), attrs_(args[3]) {
  if (!isArray(env, inputs_)) throw Error{"inputs must be an array of Float32Arrays"};
  if (!isArray(env, outputs_)) throw Error{"outputs must be an array of Float32Arrays"};
  if (!isArray(env, shapes_)) throw Error{"inputShapes must be an array of shapes"};
  napi_valuetype kind;
  napi_typeof(env, attrs_, &kind);
  if (kind != napi_object) throw Error{"attrs must be an object"};
}

const float* KernelCall::input(uint32_t i, const char* name, int64_t extent) const {
  const View v = viewOf(env_, elementOf(env_, inputs_, i), name);
  needs(v, extent, name);
  return v.data;
}

float* KernelCall::output(uint32_t i, const char* name, int64_t extent) const {
  const View v = viewOf(env_, elementOf(env_, outputs_, i), name);
  needs(v, extent, name);
  return v.data;
}

Shape KernelCall::shape(uint32_t i, const char* name) const {
  const napi_value list = elementOf(env_, shapes_, i);
  const auto bad = [&](const std::string& what) { return Error{std::string("the shape of ") + name + what}; };
  uint32_t rank = 0;
  if (!isArray(env_, list)) throw bad(" must be an array of whole numbers >= 0");
  napi_get_array_length(env_, list, &rank);
  if (rank > Shape::kMaxRank) throw bad(" has " + std::to_string(rank) + " axes, more than " + std::to_string(Shape::kMaxRank));
  Shape out;
  out.rank = static_cast<int>(rank);
  for (uint32_t a = 0; a < rank; a++)
    if (!wholeOf<int64_t>(env_, elementOf(env_, list, a), 0, &out.dims[a])) throw bad(" must be an array of whole numbers >= 0");
  return out;
}

napi_value KernelCall::attr(const char* name) const {
  napi_value out;
  napi_get_named_property(env_, attrs_, name, &out);
  return out;
}

double KernelCall::number(const char* name) const {
  double out = 0;
  if (napi_get_value_double(env_, attr(name), &out) != napi_ok) throw Error{std::string("attribute ") + name + " must be a number"};
  return out;
}

std::vector<int32_t> KernelCall::ints(const char* name) const {
  const napi_value list = attr(name);
  const auto bad = [&] { return Error{std::string("attribute ") + name + " must be a list of whole numbers"}; };
  bool isTyped = false;
  napi_is_typedarray(env_, list, &isTyped);
  if (isTyped) {
    const IntView v = intViewOf(env_, list, name);
    return std::vector<int32_t>(v.data, v.data + v.length);
  }
  if (!isArray(env_, list)) throw bad();
  uint32_t length = 0;
  napi_get_array_length(env_, list, &length);
  std::vector<int32_t> out(length);
  for (uint32_t i = 0; i < length; i++)
    if (!wholeOf<int32_t>(env_, elementOf(env_, list, i), std::numeric_limits<int32_t>::min(), &out[i])) throw bad();
  return out;
}

std::vector<const KernelRegistration*>& kernelRegistrations() {
  static std::vector<const KernelRegistration*> all;
  return all;
}

KernelRegistration::KernelRegistration(const char* name, KernelBody body) : name(name), body(body) { kernelRegistrations().push_back(this); }

// The callback of every fused kernel: its registration, the function's data, says which body
// runs; an Error names the kernel.
static napi_value callKernel(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    size_t count = 4;
    napi_value args[4];
    void* data = nullptr;
    napi_get_cb_info(env, info, &count, args, nullptr, &data);
    const auto* kernel = static_cast<const KernelRegistration*>(data);
    try {
      if (count < 4) throw Error{"expected 4 arguments (inputs, outputs, inputShapes, attrs), got " + std::to_string(count)};
      kernel->body(KernelCall(env, args));
    } catch (const Error& e) {
      throw Error{std::string(kernel->name) + ": " + e.message};
    }
    return undefinedOf(env);
  });
}

// exports.fused: every registered kernel under its name, enumerable, so the glue can list them.
static napi_value fusedKernels(napi_env env) {
  std::vector<napi_property_descriptor> props;
  std::set<std::string> names;
  for (const KernelRegistration* k : kernelRegistrations()) {
    if (!names.insert(k->name).second) throw Error{std::string("two kernels are named ") + k->name};
    props.push_back({k->name, nullptr, callKernel, nullptr, nullptr, nullptr, napi_enumerable, const_cast<KernelRegistration*>(k)});
  }
  napi_value fused;
  napi_create_object(env, &fused);
  napi_define_properties(env, fused, props.size(), props.data());
  return fused;
}

std::vector<Binding>& bindings() {
  static std::vector<Binding> all;
  return all;
}

void exportBindings(napi_env env, napi_value exports) {
  std::vector<napi_property_descriptor> props;
  std::set<std::string> names;
  for (const Binding& b : bindings()) {
    // Two files registering one name would leave whichever came last: refuse to load instead.
    if (!names.insert(b.name).second) throw Error{std::string("two bindings are named ") + b.name};
    props.push_back({b.name, nullptr, b.callback, nullptr, nullptr, nullptr, napi_default, nullptr});
  }
  props.push_back({"fused", nullptr, nullptr, nullptr, nullptr, fusedKernels(env), napi_default, nullptr});
  napi_define_properties(env, exports, props.size(), props.data());
}

napi_value undefinedOf(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

}  // namespace shiftmix::napi
