// Layer norm and its backward, one row at a time, with the two-pass mean and variance of
// the composite (no E[x^2] - mean^2 cancellation). Row statistics are summed in double.
#include <algorithm>
#include <cmath>
#include <vector>
#include "kernels.h"
#include "napi-util.h"
#include "pool.h"

namespace shiftmix {
namespace {

struct RowStats {
  float mean, rstd;
};

SHIFTMIX_HOT RowStats statsOf(const float* __restrict x, int dim, float eps) {
  double s = 0;
  for (int c = 0; c < dim; c++) s += x[c];
  const float mean = static_cast<float>(s / dim);
  double ss = 0;
  for (int c = 0; c < dim; c++) {
    const float d = x[c] - mean;
    ss += d * d;
  }
  return {mean, 1.0f / std::sqrt(static_cast<float>(ss / dim) + eps)};
}

}  // namespace

SHIFTMIX_HOT static void layerNormRows(int64_t first, int64_t last, int dim, float eps, const float* x, const float* h, const float* gamma,
                                       const float* beta, float* sum, float* normed) {
  for (int64_t r = first; r < last; r++) {
    const float* xr = x + r * dim;
    float* out = normed + r * dim;
    if (h) {
      float* sr = sum + r * dim;
      const float* hr = h + r * dim;
      for (int c = 0; c < dim; c++) sr[c] = xr[c] + hr[c];
      xr = sr;
    }
    const RowStats st = statsOf(xr, dim, eps);
    for (int c = 0; c < dim; c++) out[c] = (xr[c] - st.mean) * st.rstd * gamma[c] + beta[c];
  }
}

// Rows per chunk of work: enough that waking a thread pays for itself.
static int64_t rowGrain(int dim) { return std::max<int64_t>(1, 16384 / std::max(1, dim)); }

// Layer norm over rows of `dim` (biased variance, as PyTorch). With h, the row is x + h,
// written to sum on the way. Null h and sum: plain layer norm.
void layerNormForward(int64_t rows, int dim, float eps, const float* x, const float* h, const float* gamma, const float* beta, float* sum,
                      float* normed) {
  parallelFor(rows, rowGrain(dim), [&](int64_t a, int64_t b) { layerNormRows(a, b, dim, eps, x, h, gamma, beta, sum, normed); });
}

// Rows [first, last) of the backward; their dgamma and dbeta terms go to gammaSum, betaSum.
SHIFTMIX_HOT static void layerNormBackRows(int64_t first, int64_t last, int dim, float eps, const float* dy, const float* x, const float* gamma,
                                           const float* dres, float* dx, double* gammaSum, double* betaSum) {
  std::vector<float> xhat(dim);
  for (int64_t r = first; r < last; r++) {
    const float* xr = x + r * dim;
    const float* dyr = dy + r * dim;
    const RowStats st = statsOf(xr, dim, eps);
    // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma.
    double gMean = 0, gxMean = 0;
    for (int c = 0; c < dim; c++) {
      xhat[c] = (xr[c] - st.mean) * st.rstd;
      const float g = dyr[c] * gamma[c];
      gMean += g;
      gxMean += g * xhat[c];
      gammaSum[c] += dyr[c] * xhat[c];
      betaSum[c] += dyr[c];
    }
    const float a = static_cast<float>(gMean / dim), b = static_cast<float>(gxMean / dim);
    float* dxr = dx + r * dim;
    for (int c = 0; c < dim; c++) {
      dxr[c] = st.rstd * (dyr[c] * gamma[c] - a - xhat[c] * b);
      if (dres) dxr[c] += dres[r * dim + c];
    }
  }
}

// dx (+ dres when given), dgamma, dbeta of layerNormForward at input x (x + h for the fused add).
void layerNormBackward(int64_t rows, int dim, float eps, const float* dy, const float* x, const float* gamma, const float* dres, float* dx,
                       float* dgamma, float* dbeta) {
  // [dgamma | dbeta] terms summed per chunk, the chunks in order.
  std::vector<double> sums(2 * static_cast<size_t>(dim));
  parallelSums(
      rows, rowGrain(dim), 2 * dim, [&](int64_t a, int64_t b, double* acc) { layerNormBackRows(a, b, dim, eps, dy, x, gamma, dres, dx, acc, acc + dim); },
      sums.data());
  for (int c = 0; c < dim; c++) {
    dgamma[c] = static_cast<float>(sums[c]);
    dbeta[c] = static_cast<float>(sums[dim + c]);
  }
}

}  // namespace shiftmix

namespace shiftmix::napi {
namespace {

// layerNormForward(x, h | null, gamma, beta, sum | null, normed, rows, dim, eps)
napi_value LayerNormForward(napi_env env, napi_callback_info info) {
  return withArgs<9>(env, info, [&](napi_value* a) {
    const View x = viewOf(env, a[0], "x"), h = viewOf(env, a[1], "h", true), gamma = viewOf(env, a[2], "gamma"),
               beta = viewOf(env, a[3], "beta"), sum = viewOf(env, a[4], "sum", true), normed = viewOf(env, a[5], "normed");
    const Rows r = rowsOf(env, a[6], a[7]);
    if ((h.data == nullptr) != (sum.data == nullptr)) throw Error{"h and sum come together (the fused residual add) or not at all"};
    for (const View* v : {&x, &normed}) needs(*v, r.size(), "x and normed");
    if (h.data) for (const View* v : {&h, &sum}) needs(*v, r.size(), "h and sum");
    for (const View* v : {&gamma, &beta}) needs(*v, r.dim, "gamma and beta");
    layerNormForward(r.rows, r.dim, float(numberOf(env, a[8], "eps")), x.data, h.data, gamma.data, beta.data, sum.data, normed.data);
  });
}

// layerNormBackward(dy, x, gamma, dres | null, dx, dgamma, dbeta, rows, dim, eps)
napi_value LayerNormBackward(napi_env env, napi_callback_info info) {
  return withArgs<10>(env, info, [&](napi_value* a) {
    const View dy = viewOf(env, a[0], "dy"), x = viewOf(env, a[1], "x"), gamma = viewOf(env, a[2], "gamma"),
               dres = viewOf(env, a[3], "dres", true), dx = viewOf(env, a[4], "dx"), dgamma = viewOf(env, a[5], "dgamma"),
               dbeta = viewOf(env, a[6], "dbeta");
    const Rows r = rowsOf(env, a[7], a[8]);
    for (const View* v : {&dy, &x, &dx}) needs(*v, r.size(), "dy, x and dx");
    if (dres.data) needs(dres, r.size(), "dres");
    for (const View* v : {&gamma, &dgamma, &dbeta}) needs(*v, r.dim, "gamma, dgamma and dbeta");
    layerNormBackward(r.rows, r.dim, float(numberOf(env, a[9], "eps")), dy.data, x.data, gamma.data, dres.data, dx.data, dgamma.data, dbeta.data);
  });
}

SHIFTMIX_BINDING("layerNormForward", LayerNormForward);
SHIFTMIX_BINDING("layerNormBackward", LayerNormBackward);

}  // namespace
}  // namespace shiftmix::napi
