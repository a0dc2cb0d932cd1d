// Global-norm clipping and the AdamW update of every weight in one pass over memory,
// in place, with the arithmetic of core's AdamW.apply (PyTorch's, bias correction folded
// into the step size).
#include <cmath>
#include <vector>
#include "kernels.h"
#include "napi-util.h"
#include "pool.h"

namespace shiftmix {

struct AdamWCall {
  float lr, beta1, beta2, eps, weightDecay, maxNorm, loss;
  int step;  // after this update: bias corrections use it
};
struct AdamWTensor {
  float *p, *m, *v;
  const float* g;
  int64_t size;
  bool decays;
};

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

// Global-norm clip and AdamW update in place; returns the norm before clipping and
// whether it applied (nothing changes when the loss or the norm is not finite, or halt is set;
// the first case sets halt).
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

namespace shiftmix::napi {
namespace {

std::vector<View> viewsOf(napi_env env, napi_value list, const char* name, uint32_t count) {
  uint32_t length = 0;
  bool isArray = false;
  napi_is_array(env, list, &isArray);
  if (isArray) napi_get_array_length(env, list, &length);
  if (!isArray || length != count) throw Error{std::string(name) + " must be an array of " + std::to_string(count) + " Float32Arrays"};
  std::vector<View> views(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    napi_get_element(env, list, i, &item);
    views[i] = viewOf(env, item, name);
  }
  return views;
}

// adamw(p[], m[], v[], g[], decays: number[], halt, report, lr, beta1, beta2, eps, weightDecay, maxNorm, loss, step)
napi_value AdamW(napi_env env, napi_callback_info info) {
  return withArgs<15>(env, info, [&](napi_value* a) {
    uint32_t count = 0;
    napi_get_array_length(env, a[0], &count);
    const auto p = viewsOf(env, a[0], "p", count), m = viewsOf(env, a[1], "m", count), v = viewsOf(env, a[2], "v", count),
               g = viewsOf(env, a[3], "g", count);
    const View halt = viewOf(env, a[5], "halt"), report = viewOf(env, a[6], "report");
    needs(halt, 1, "halt");
    needs(report, 2, "report");
    std::vector<AdamWTensor> tensors(count);
    for (uint32_t i = 0; i < count; i++) {
      const int64_t size = static_cast<int64_t>(p[i].length);
      for (const View* x : {&m[i], &v[i], &g[i]}) needs(*x, size, "each m, v and g");
      napi_value flag;
      napi_get_element(env, a[4], i, &flag);
      tensors[i] = {p[i].data, m[i].data, v[i].data, g[i].data, size, numberOf(env, flag, "decays") != 0};
    }
    double n[8];
    for (int i = 0; i < 8; i++) n[i] = numberOf(env, a[7 + i], "adamw parameter");
    const AdamWCall call{float(n[0]), float(n[1]), float(n[2]), float(n[3]), float(n[4]), float(n[5]), float(n[6]), int(n[7])};
    adamw(call, tensors.data(), static_cast<int>(count), halt.data, report.data);
  });
}

SHIFTMIX_BINDING("adamw", AdamW);

}  // namespace
}  // namespace shiftmix::napi
