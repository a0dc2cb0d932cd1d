// Global-norm clipping and the AdamW update of every weight in one pass over memory,
// in place, with the arithmetic of core's AdamW.apply (PyTorch's, bias correction folded
// into the step size).
#include <cmath>
#include "kernels.h"
#include "pool.h"

namespace shiftmix {

SHIFTMIX_HOT static double sumSquares(const float* __restrict g, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += static_cast<double>(g[i]) * g[i];
  return s;
}

SHIFTMIX_HOT static void update(const AdamWCall& c, const AdamWTensor& t, int64_t first, int64_t last, float scale, float stepSize, float sqrtBc2) {
  const float decay = t.decays && c.weightDecay > 0 ? 1.0f - c.lr * c.weightDecay : 1.0f;
  for (int64_t i = first; i < last; i++) {
    const float g = t.g[i] * scale;
    const float m = c.beta1 * t.m[i] + (1.0f - c.beta1) * g;
    const float v = c.beta2 * t.v[i] + (1.0f - c.beta2) * (g * g);
    const float denom = std::sqrt(v) / sqrtBc2 + c.eps;
    t.p[i] = t.p[i] * decay - (m / denom) * stepSize;
    t.m[i] = m;
    t.v[i] = v;
  }
}

void adamw(const AdamWCall& call, AdamWTensor* tensors, int count, float* halt, float* report) {
  // Elements split over the pool's threads, weight by weight; grains keep small weights on one.
  const int64_t grain = 1 << 15;
  double squares = 0;
  for (int i = 0; i < count; i++) {
    const AdamWTensor& t = tensors[i];
    double s = 0;
    parallelSums(t.size, grain, 1, [&](int64_t a, int64_t b, double* acc) { *acc += sumSquares(t.g + a, b - a); }, &s);
    squares += s;
  }
  const float norm = static_cast<float>(std::sqrt(squares));
  report[0] = norm;
  report[1] = 0;
  if (!std::isfinite(call.loss) || !std::isfinite(norm)) {
    *halt = 1;
    return;
  }
  if (*halt != 0) return;
  const float scale = call.maxNorm > 0 ? std::fmin(1.0f, call.maxNorm / (norm + 1e-6f)) : 1.0f;
  const float stepSize = static_cast<float>(call.lr / (1.0 - std::pow(static_cast<double>(call.beta1), call.step)));
  const float sqrtBc2 = static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(call.beta2), call.step)));
  for (int i = 0; i < count; i++) {
    const AdamWTensor& t = tensors[i];
    parallelFor(t.size, grain, [&](int64_t a, int64_t b) { update(call, t, a, b, scale, stepSize, sqrtBc2); });
  }
  report[1] = 1;
}

}  // namespace shiftmix
