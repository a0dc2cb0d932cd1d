// The module: what the addon says about itself, the thread counts, and the init that
// exports every binding the kernels' files registered. Arguments are Float32Arrays (views
// of any memory, the wasm heap included) and numbers.
#include <string>
#include "kernels.h"
#include "napi-util.h"
#include "pool.h"

using namespace shiftmix::napi;

namespace {

// info() -> { blas, threads, poolThreads }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value out, blas, threads, pool;
  napi_create_object(env, &out);
  const std::string name = shiftmix::blasName();
  napi_create_string_utf8(env, name.c_str(), name.size(), &blas);
  napi_create_int32(env, shiftmix::blasThreads(), &threads);
  napi_create_int32(env, shiftmix::poolThreads(), &pool);
  napi_set_named_property(env, out, "blas", blas);
  napi_set_named_property(env, out, "threads", threads);
  napi_set_named_property(env, out, "poolThreads", pool);
  return out;
}

// setPoolThreads(n)
napi_value SetPoolThreads(napi_env env, napi_callback_info info) {
  return withArgs<1>(env, info, [&](napi_value* argv) {
    shiftmix::setPoolThreads(static_cast<int>(numberOf(env, argv[0], "threads")));
  });
}

// setBlasThreads(n)
napi_value SetBlasThreads(napi_env env, napi_callback_info info) {
  return withArgs<1>(env, info, [&](napi_value* argv) {
    shiftmix::setBlasThreads(static_cast<int>(numberOf(env, argv[0], "threads")));
  });
}

SHIFTMIX_BINDING("info", Info);
SHIFTMIX_BINDING("setPoolThreads", SetPoolThreads);
SHIFTMIX_BINDING("setBlasThreads", SetBlasThreads);

}  // namespace

NAPI_MODULE_INIT() {
  return guarded(env, [&]() -> napi_value {
    exportBindings(env, exports);
    return exports;
  });
}
