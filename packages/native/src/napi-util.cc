#include "napi-util.h"
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
  napi_define_properties(env, exports, props.size(), props.data());
}

napi_value undefinedOf(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

}  // namespace shiftmix::napi
