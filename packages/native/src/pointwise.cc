// Bias + GELU and the language-model loss: elementwise work whose composites take a
// dozen tfjs kernels (and their saved intermediates) each.
#include <cmath>
#include <limits>
#include <vector>
#include "fastmath.h"
#include "kernels.h"

namespace shiftmix {
namespace {

const float kGeluC = 0.7978845608028654f;  // sqrt(2 / pi)


}  // namespace

SHIFTMIX_HOT void columnSums(int64_t rows, int cols, const float* x, float* out) {
  std::vector<float> acc(cols, 0.0f);
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict row = x + r * cols;
    float* __restrict a = acc.data();
    for (int c = 0; c < cols; c++) a[c] += row[c];
  }
  for (int c = 0; c < cols; c++) out[c] = acc[c];
}

SHIFTMIX_HOT void biasGeluForward(int64_t rows, int dim, const float* x, const float* b, float* y) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    for (int c = 0; c < dim; c++) {
      const float z = xr[c] + b[c];
      yr[c] = 0.5f * z * (1.0f + fastTanh(kGeluC * (z + 0.044715f * z * z * z)));
    }
  }
}

SHIFTMIX_HOT void biasGeluBackward(int64_t rows, int dim, const float* dy, const float* x, const float* b, float* dx, float* db) {
  std::vector<double> sums(dim, 0.0);
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * dim;
    const float* dyr = dy + r * dim;
    float* dxr = dx + r * dim;
    for (int c = 0; c < dim; c++) {
      const float z = xr[c] + b[c];
      const float t = fastTanh(kGeluC * (z + 0.044715f * z * z * z));
      const float grad = 0.5f * (1.0f + t) + 0.5f * z * (1.0f - t * t) * kGeluC * (1.0f + 3.0f * 0.044715f * z * z);
      dxr[c] = dyr[c] * grad;
      sums[c] += dxr[c];
    }
  }
  for (int c = 0; c < dim; c++) db[c] = static_cast<float>(sums[c]);
}

float crossEntropyForward(int64_t rows, int vocab, const float* logits, const int32_t* targets, float* lse) {
  double total = 0;
  int64_t count = 0;
  bool outOfRange = false;
  for (int64_t r = 0; r < rows; r++) {
    const float* row = logits + r * vocab;
    float m = -INFINITY;
    for (int v = 0; v < vocab; v++) m = std::fmax(m, row[v]);
    double s = 0;
    for (int v = 0; v < vocab; v++) s += fastExp(row[v] - m);
    lse[r] = m + static_cast<float>(std::log(s));
    const int32_t y = targets[r];
    if (y < 0) continue;
    if (y >= vocab) {
      outOfRange = true;
      continue;
    }
    total += lse[r] - row[y];
    count++;
  }
  if (outOfRange) return std::numeric_limits<float>::quiet_NaN();
  return static_cast<float>(total / static_cast<double>(count > 0 ? count : 1));
}

SHIFTMIX_HOT void crossEntropyBackward(int64_t rows, int vocab, float dy, const float* logits, const int32_t* targets, const float* lse,
                                       float* dlogits) {
  int64_t count = 0;
  bool outOfRange = false;
  for (int64_t r = 0; r < rows; r++) {
    if (targets[r] >= vocab) outOfRange = true;
    if (targets[r] >= 0) count++;
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float scale = dy / static_cast<float>(count > 0 ? count : 1);
  for (int64_t r = 0; r < rows; r++) {
    float* out = dlogits + r * vocab;
    const int32_t y = targets[r];
    if (outOfRange || y < 0) {
      for (int v = 0; v < vocab; v++) out[v] = outOfRange ? nan : 0.0f;
      continue;
    }
    const float* row = logits + r * vocab;
    for (int v = 0; v < vocab; v++) out[v] = fastExp(row[v] - lse[r]) * scale;
    out[y] -= scale;
  }
}

}  // namespace shiftmix
