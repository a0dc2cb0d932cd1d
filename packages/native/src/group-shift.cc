// The group shift S and its gradient: y = S(x), each channel group delayed by its shift,
// or x shifted the other way.
#include "kernels.h"
#include "shift.h"

namespace shiftmix {

// y = S(x) (back = false), or x shifted the other way, y[t] = x[t + s], the gradient of S (back = true).
SHIFTMIX_HOT void groupShift(const ShiftCall& call, const float* x, float* y, bool back) {
  forEachSequence(call, [&](int64_t b0, int64_t b1) {
    forEachRow(call, b0, b1, [&](int64_t row, int64_t from, const Group& g) {
      // Forward: y[t] = x[t - s] (0 before the start). Back: y[t - s] = x[t], the rows past the end 0.
      if (!back) {
        for (int c = g.start; c < g.start + g.size; c++) y[row + c] = from >= 0 ? x[from + c] : 0.0f;
        return;
      }
      const int64_t t = (row / call.dim) % call.length;
      if (t + g.shift >= call.length)
        for (int c = g.start; c < g.start + g.size; c++) y[row + c] = 0.0f;
      if (from >= 0)
        for (int c = g.start; c < g.start + g.size; c++) y[from + c] = x[row + c];
    });
  });
}

}  // namespace shiftmix

namespace shiftmix::napi {
namespace {

// ShiftmixGroupShift: x -> y = S(x). ShiftmixGroupShiftGrad: dy -> dx, dy shifted the other way.
template <bool back>
void GroupShiftKernel(const KernelCall& k) {
  const char* in = back ? "dy" : "x";
  const ShiftCall call = shiftCallOf(k, 0, in);
  const float* x = k.input(0, in, call.size());
  groupShift(call, x, k.output(0, back ? "dx" : "y", call.size()), back);
}

SHIFTMIX_KERNEL("ShiftmixGroupShift", GroupShiftKernel<false>);
SHIFTMIX_KERNEL("ShiftmixGroupShiftGrad", GroupShiftKernel<true>);

}  // namespace
}  // namespace shiftmix::napi
