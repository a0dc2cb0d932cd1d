// The learned-fusion blend: y = S(v) + g * (v - S(v)), g a gate per element, and its backward.
#include "kernels.h"
#include "shift.h"

namespace shiftmix {

SHIFTMIX_HOT void fusionBlendForward(const ShiftCall& call, const float* g, const float* v, float* y) {
  forEachSequence(call, [&](int64_t b0, int64_t b1) {
    forEachRow(call, b0, b1, [&](int64_t row, int64_t from, const Group& grp) {
      for (int c = grp.start; c < grp.start + grp.size; c++) {
        const float shifted = from >= 0 ? v[from + c] : 0.0f;
        y[row + c] = shifted + g[row + c] * (v[row + c] - shifted);
      }
    });
  });
}

SHIFTMIX_HOT void fusionBlendBackward(const ShiftCall& call, const float* dy, const float* g, const float* v, float* dg, float* dv) {
  // y[t] = (1 - g[t]) v[t - s] + g[t] v[t]: dv[t] = g[t] dy[t] + (1 - g[t + s]) dy[t + s].
  forEachSequence(call, [&](int64_t b0, int64_t b1) {
    forEachRow(call, b0, b1, [&](int64_t row, int64_t from, const Group& grp) {
      for (int c = grp.start; c < grp.start + grp.size; c++) {
        const float shifted = from >= 0 ? v[from + c] : 0.0f;
        dg[row + c] = dy[row + c] * (v[row + c] - shifted);
        dv[row + c] = g[row + c] * dy[row + c];
      }
    });
    forEachRow(call, b0, b1, [&](int64_t row, int64_t from, const Group& grp) {
      if (from < 0) return;
      for (int c = grp.start; c < grp.start + grp.size; c++) dv[from + c] += (1.0f - g[row + c]) * dy[row + c];
    });
  });
}

}  // namespace shiftmix

namespace shiftmix::napi {
namespace {

// ShiftmixFusionBlend: g, v -> y.
void FusionBlend(const KernelCall& k) {
  const ShiftCall call = shiftCallOf(k, 1, "v");
  const float* g = k.input(0, "g", call.size());
  const float* v = k.input(1, "v", call.size());
  fusionBlendForward(call, g, v, k.output(0, "y", call.size()));
}

// ShiftmixFusionBlendGrad: dy, g, v -> dg, dv.
void FusionBlendGrad(const KernelCall& k) {
  const ShiftCall call = shiftCallOf(k, 2, "v");
  const float* dy = k.input(0, "dy", call.size());
  const float* g = k.input(1, "g", call.size());
  const float* v = k.input(2, "v", call.size());
  float* dg = k.output(0, "dg", call.size());
  fusionBlendBackward(call, dy, g, v, dg, k.output(1, "dv", call.size()));
}

SHIFTMIX_KERNEL("ShiftmixFusionBlend", FusionBlend);
SHIFTMIX_KERNEL("ShiftmixFusionBlendGrad", FusionBlendGrad);

}  // namespace
}  // namespace shiftmix::napi
