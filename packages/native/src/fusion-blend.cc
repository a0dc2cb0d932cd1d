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

// fusionBlendForward(g, v, y, shifts, batch, length, dim)
napi_value FusionBlendForward(napi_env env, napi_callback_info info) {
  return withArgs<7>(env, info, [&](napi_value* a) {
    const auto [call, p] = shiftArgsOf(env, a, {"g", "v", "y"});
    fusionBlendForward(call, p[0], p[1], p[2]);
  });
}

// fusionBlendBackward(dy, g, v, dg, dv, shifts, batch, length, dim)
napi_value FusionBlendBackward(napi_env env, napi_callback_info info) {
  return withArgs<9>(env, info, [&](napi_value* a) {
    const auto [call, p] = shiftArgsOf(env, a, {"dy", "g", "v", "dg", "dv"});
    fusionBlendBackward(call, p[0], p[1], p[2], p[3], p[4]);
  });
}

SHIFTMIX_BINDING("fusionBlendForward", FusionBlendForward);
SHIFTMIX_BINDING("fusionBlendBackward", FusionBlendBackward);

}  // namespace
}  // namespace shiftmix::napi
