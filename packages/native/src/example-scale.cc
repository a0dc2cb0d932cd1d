// Core's example fused kernel (EXAMPLE_SCALE of @shiftmix/core/testing): y = x * by + bias,
// bias per last-axis channel, and its backward. A kernel of this package whole, as a new
// one is written: its loops and its kernels registered under the kernel objects' names, in
// this one file, which binding.gyp compiles like any other; the package's glue
// (src/wasm/fused.ts) implements the objects under wasm by those names, so there is no
// TypeScript to write. It is compiled into the shipped addon: two small kernels that only
// the tests' kernel object (defined by @shiftmix/core/testing) ever calls.
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

// ExampleScale: x, bias -> y; attribute by.
void ExampleScale(const KernelCall& k) {
  const Rows r = rowsOf(k.shape(0, "x"), "x");
  const float* x = k.input(0, "x", r.size());
  const float* bias = k.input(1, "bias", r.dim);
  exampleScaleForward(r.rows, r.dim, float(k.number("by")), x, bias, k.output(0, "y", r.size()));
}

// ExampleScaleGrad: dy -> dx, dbias; attribute by.
void ExampleScaleGrad(const KernelCall& k) {
  const Rows r = rowsOf(k.shape(0, "dy"), "dy");
  const float* dy = k.input(0, "dy", r.size());
  float* dx = k.output(0, "dx", r.size());
  exampleScaleBackward(r.rows, r.dim, float(k.number("by")), dy, dx, k.output(1, "dbias", r.dim));
}

SHIFTMIX_KERNEL("ExampleScale", ExampleScale);
SHIFTMIX_KERNEL("ExampleScaleGrad", ExampleScaleGrad);

}  // namespace
}  // namespace shiftmix::napi
