// Core's example fused kernel (EXAMPLE_SCALE of @shiftmix/core/testing): y = x * by + bias,
// bias per last-axis channel, and its backward. A kernel of this package whole, as a new
// one is written: its loops and its bindings in its own file, which binding.gyp compiles
// like any other, and one glue file (src/wasm/fixtures/example-scale.ts, which the tests
// import). It is compiled into the shipped addon: two small functions that nothing but
// those tests calls.
#include "kernels.h"
#include "napi-util.h"

namespace shiftmix {

// y [rows, channels] = x * by + bias.
SHIFTMIX_HOT void exampleScaleForward(int64_t rows, int channels, float by, const float* x, const float* bias, float* y) {
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict xr = x + r * channels;
    float* __restrict yr = y + r * channels;
    for (int c = 0; c < channels; c++) yr[c] = xr[c] * by + bias[c];
  }
}

// dx = dy * by; dbias = the column sums of dy, the package's own (pointwise.cc).
SHIFTMIX_HOT void exampleScaleBackward(int64_t rows, int channels, float by, const float* dy, float* dx, float* dbias) {
  for (int64_t i = 0; i < rows * channels; i++) dx[i] = dy[i] * by;
  columnSums(rows, channels, dy, dbias);
}

}  // namespace shiftmix

namespace shiftmix::napi {
namespace {

// exampleScaleForward(x, bias, y, rows, channels, by)
napi_value ExampleScaleForward(napi_env env, napi_callback_info info) {
  return withArgs<6>(env, info, [&](napi_value* a) {
    const View x = viewOf(env, a[0], "x"), bias = viewOf(env, a[1], "bias"), y = viewOf(env, a[2], "y");
    const Rows r = rowsOf(env, a[3], a[4]);
    for (const View* v : {&x, &y}) needs(*v, r.size(), "x and y");
    needs(bias, r.dim, "bias");
    exampleScaleForward(r.rows, r.dim, float(numberOf(env, a[5], "by")), x.data, bias.data, y.data);
  });
}

// exampleScaleBackward(dy, dx, dbias, rows, channels, by)
napi_value ExampleScaleBackward(napi_env env, napi_callback_info info) {
  return withArgs<6>(env, info, [&](napi_value* a) {
    const View dy = viewOf(env, a[0], "dy"), dx = viewOf(env, a[1], "dx"), dbias = viewOf(env, a[2], "dbias");
    const Rows r = rowsOf(env, a[3], a[4]);
    for (const View* v : {&dy, &dx}) needs(*v, r.size(), "dy and dx");
    needs(dbias, r.dim, "dbias");
    exampleScaleBackward(r.rows, r.dim, float(numberOf(env, a[5], "by")), dy.data, dx.data, dbias.data);
  });
}

SHIFTMIX_BINDING("exampleScaleForward", ExampleScaleForward);
SHIFTMIX_BINDING("exampleScaleBackward", ExampleScaleBackward);

}  // namespace
}  // namespace shiftmix::napi
