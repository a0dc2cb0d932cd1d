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

// ShiftmixHsmAb: u, a, b -> y.
void HsmAb(const KernelCall& k) {
  const ShiftCall call = shiftCallOf(k, 0, "u");
  const float* u = k.input(0, "u", call.size());
  const float* a = k.input(1, "a", call.dim);
  const float* b = k.input(2, "b", call.dim);
  hsmAbForward(call, u, a, b, k.output(0, "y", call.size()));
}

// ShiftmixHsmAbGrad: dy, u, a, b -> du, da, db.
void HsmAbGrad(const KernelCall& k) {
  const ShiftCall call = shiftCallOf(k, 1, "u");
  const float* dy = k.input(0, "dy", call.size());
  const float* u = k.input(1, "u", call.size());
  const float* a = k.input(2, "a", call.dim);
  const float* b = k.input(3, "b", call.dim);
  float* du = k.output(0, "du", call.size());
  float* da = k.output(1, "da", call.dim);
  hsmAbBackward(call, dy, u, a, b, du, da, k.output(2, "db", call.dim));
}

SHIFTMIX_KERNEL("ShiftmixHsmAb", HsmAb);
SHIFTMIX_KERNEL("ShiftmixHsmAbGrad", HsmAbGrad);

}  // namespace
}  // namespace shiftmix::napi
