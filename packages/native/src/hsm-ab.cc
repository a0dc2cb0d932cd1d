// The (a,b) mix of hsm-ab: y = a * u + b * S(u), a and b per channel, and its backward.
#include <vector>
#include "kernels.h"
#include "shift.h"

namespace shiftmix {

SHIFTMIX_HOT void hsmAbForward(const ShiftCall& call, const float* u, const float* a, const float* b, float* y) {
  forEachSequence(call, [&](int64_t b0, int64_t b1) {
    forEachRow(call, b0, b1, [&](int64_t row, int64_t from, const Group& g) {
      float* __restrict yr = y + row;
      const float* __restrict ur = u + row;
      for (int c = g.start; c < g.start + g.size; c++) yr[c] = a[c] * ur[c] + (from >= 0 ? b[c] * u[from + c] : 0.0f);
    });
  });
}

SHIFTMIX_HOT void hsmAbBackward(const ShiftCall& call, const float* dy, const float* u, const float* a, const float* b, float* du, float* da,
                                float* db) {
  // [da | db] terms summed per chunk of sequences, the chunks in order.
  std::vector<double> sums(2 * static_cast<size_t>(call.dim));
  auto sequences = [&](int64_t b0, int64_t b1, double* acc) {
    double* sa = acc;
    double* sb = acc + call.dim;
    // du[t] = a dy[t] + b dy[t + s]: written as du[t] = a dy[t], then du[t - s] += b dy[t].
    forEachRow(call, b0, b1, [&](int64_t row, int64_t, const Group& g) {
      for (int c = g.start; c < g.start + g.size; c++) {
        du[row + c] = a[c] * dy[row + c];
        sa[c] += dy[row + c] * u[row + c];
      }
    });
    forEachRow(call, b0, b1, [&](int64_t row, int64_t from, const Group& g) {
      if (from < 0) return;
      for (int c = g.start; c < g.start + g.size; c++) {
        du[from + c] += b[c] * dy[row + c];
        sb[c] += dy[row + c] * u[from + c];
      }
    });
  };
  parallelSums(call.batch, batchGrain(call), 2 * call.dim, sequences, sums.data());
  for (int c = 0; c < call.dim; c++) {
    da[c] = static_cast<float>(sums[c]);
    db[c] = static_cast<float>(sums[call.dim + c]);
  }
}

}  // namespace shiftmix

namespace shiftmix::napi {
namespace {

// hsmAbForward(u, a, b, y, shifts, batch, length, dim)
napi_value HsmAbForward(napi_env env, napi_callback_info info) {
  return withArgs<8>(env, info, [&](napi_value* a) {
    const auto [call, p] = shiftArgsOf(env, a, {"u", "a", "b", "y"}, {1, 2});
    hsmAbForward(call, p[0], p[1], p[2], p[3]);
  });
}

// hsmAbBackward(dy, u, a, b, du, da, db, shifts, batch, length, dim)
napi_value HsmAbBackward(napi_env env, napi_callback_info info) {
  return withArgs<11>(env, info, [&](napi_value* a) {
    const auto [call, p] = shiftArgsOf(env, a, {"dy", "u", "a", "b", "du", "da", "db"}, {2, 3, 5, 6});
    hsmAbBackward(call, p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
  });
}

SHIFTMIX_BINDING("hsmAbForward", HsmAbForward);
SHIFTMIX_BINDING("hsmAbBackward", HsmAbBackward);

}  // namespace
}  // namespace shiftmix::napi
