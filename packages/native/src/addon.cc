// The N-API face of the matrix and attention kernels: arguments are Float32Arrays (views
// of any memory, the wasm heap included) and numbers.
#include <cstdint>
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

// gemm(a, b, c, transA, transB, m, n, k, batch, strideA, strideB, strideC, alpha, beta)
napi_value Gemm(napi_env env, napi_callback_info info) {
  return withArgs<14>(env, info, [&](napi_value* argv) {
    const View a = viewOf(env, argv[0], "a"), b = viewOf(env, argv[1], "b"), c = viewOf(env, argv[2], "c");
    double n[11];
    for (int i = 0; i < 11; i++) n[i] = numberOf(env, argv[3 + i], "gemm size");
    shiftmix::GemmCall call{n[0] != 0, n[1] != 0, int(n[2]), int(n[3]), int(n[4]), int(n[5]),
                            int64_t(n[6]), int64_t(n[7]), int64_t(n[8]), float(n[9]), float(n[10])};
    if (call.m < 0 || call.n < 0 || call.k < 0 || call.batch < 1) throw Error{"gemm sizes must be >= 0 and batch >= 1"};
    const int64_t last = call.batch - 1;
    needs(a, last * call.strideA + int64_t(call.m) * call.k, "a");
    needs(b, last * call.strideB + int64_t(call.k) * call.n, "b");
    needs(c, last * call.strideC + int64_t(call.m) * call.n, "c");
    shiftmix::gemm(call, a.data, b.data, c.data);
  });
}

// The numbers that follow the views of both attention calls.
shiftmix::AttentionCall attentionCallOf(napi_env env, napi_value* argv) {
  double n[15];
  for (int i = 0; i < 15; i++) n[i] = numberOf(env, argv[i], "attention parameter");
  shiftmix::AttentionCall call{int(n[0]), int(n[1]), int(n[2]), int(n[3]), float(n[4]), int(n[5]), float(n[6]), uint32_t(int64_t(n[7])),
                               {int64_t(n[8]), int64_t(n[9]), int64_t(n[10])}, {int64_t(n[11]), int64_t(n[12]), int64_t(n[13])}, int(n[14])};
  if (call.batch < 0 || call.heads < 1 || call.length < 0 || call.headDim < 1 || call.window < 0 || !(call.dropoutRate >= 0 && call.dropoutRate < 1))
    throw Error{"attention needs batch >= 0, heads >= 1, length >= 0, headDim >= 1, window >= 0 and 0 <= dropoutRate < 1"};
  return call;
}

// One past the last element a head layout reaches.
int64_t extentOf(const shiftmix::AttentionCall& c, const shiftmix::HeadLayout& l) {
  if (c.batch == 0 || c.length == 0) return 0;
  return (c.batch - 1) * l.batch + (c.heads - 1) * l.head + (c.length - 1) * l.row + c.headDim;
}

// attentionForward(q, k, v, out, lse, ...15 numbers)
napi_value AttentionForward(napi_env env, napi_callback_info info) {
  return withArgs<20>(env, info, [&](napi_value* argv) {
    const View q = viewOf(env, argv[0], "q"), k = viewOf(env, argv[1], "k"), v = viewOf(env, argv[2], "v");
    const View out = viewOf(env, argv[3], "out"), lse = viewOf(env, argv[4], "lse");
    const shiftmix::AttentionCall call = attentionCallOf(env, argv + 5);
    for (const auto* x : {&q, &k, &v}) needs(*x, extentOf(call, call.in), "q, k and v");
    needs(out, extentOf(call, call.out), "out");
    needs(lse, int64_t(call.batch) * call.heads * call.length, "lse");
    shiftmix::attentionForward(call, q.data, k.data, v.data, out.data, lse.data);
  });
}

// attentionBackward(q, k, v, out, dOut, lse | null, dq, dk, dv, ...15 numbers)
napi_value AttentionBackward(napi_env env, napi_callback_info info) {
  return withArgs<24>(env, info, [&](napi_value* argv) {
    const char* names[] = {"q", "k", "v", "out", "dOut", "lse", "dq", "dk", "dv"};
    View views[9];
    for (int i = 0; i < 9; i++) views[i] = viewOf(env, argv[i], names[i], i == 5);
    const shiftmix::AttentionCall call = attentionCallOf(env, argv + 9);
    for (int i : {0, 1, 2, 6, 7, 8}) needs(views[i], extentOf(call, call.in), names[i]);
    for (int i : {3, 4}) needs(views[i], extentOf(call, call.out), names[i]);
    if (views[5].data) needs(views[5], int64_t(call.batch) * call.heads * call.length, "lse");
    shiftmix::attentionBackward(call, views[0].data, views[1].data, views[2].data, views[3].data, views[4].data, views[5].data,
                                views[6].data, views[7].data, views[8].data);
  });
}

}  // namespace

NAPI_MODULE_INIT() {
  defineFunctions(env, exports, {
      {"info", Info},
      {"setPoolThreads", SetPoolThreads},
      {"setBlasThreads", SetBlasThreads},
      {"gemm", Gemm},
      {"attentionForward", AttentionForward},
      {"attentionBackward", AttentionBackward},
  });
  defineTrainingKernels(env, exports);
  defineShiftKernels(env, exports);
  return exports;
}
