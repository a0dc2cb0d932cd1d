#include "napi-util.h"

namespace shiftmix::napi {

void argsOf(napi_env env, napi_callback_info info, size_t expected, napi_value* storage) {
  size_t count = expected;
  napi_get_cb_info(env, info, &count, storage, nullptr, nullptr);
  if (count < expected) throw Error{"expected " + std::to_string(expected) + " arguments, got " + std::to_string(count)};
}

View viewOf(napi_env env, napi_value value, const char* name, bool nullable) {
  napi_valuetype kind;
  napi_typeof(env, value, &kind);
  if (nullable && (kind == napi_null || kind == napi_undefined)) return {};
  bool isTyped = false;
  napi_is_typedarray(env, value, &isTyped);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (isTyped) napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr);
  if (!isTyped || type != napi_float32_array) throw Error{std::string(name) + " must be a Float32Array"};
  return {static_cast<float*>(data), length};
}

IntView intViewOf(napi_env env, napi_value value, const char* name) {
  bool isTyped = false;
  napi_is_typedarray(env, value, &isTyped);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (isTyped) napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr);
  if (!isTyped || type != napi_int32_array) throw Error{std::string(name) + " must be an Int32Array"};
  return {static_cast<int32_t*>(data), length};
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

napi_value undefinedOf(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

}  // namespace shiftmix::napi
