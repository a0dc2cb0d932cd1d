// Row and element loops: column sums (a bias's gradient), dropout, bias + GELU and the
// language-model loss, whose composites take a dozen tfjs kernels (and their saved
// intermediates) each.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#include "fastmath.h"
#include "kernels.h"
#include "napi-util.h"
#include "pool.h"

namespace shiftmix {
namespace {

const float kGeluC = 0.7978845608028654f;  // sqrt(2 / pi)

// Rows per chunk of work: enough that waking a thread pays for itself.
int64_t rowGrain(int dim) { return std::max<int64_t>(1, 16384 / std::max(1, dim)); }

// Columns [c0, c1) of the sums, rows in order (the same floats whatever the split).
SHIFTMIX_HOT void columnSumsOf(int64_t rows, int cols, int c0, int c1, const float* x, float* out) {
  std::vector<float> acc(c1 - c0, 0.0f);
  for (int64_t r = 0; r < rows; r++) {
    const float* __restrict row = x + r * cols + c0;
    float* __restrict a = acc.data();
    for (int c = 0; c < c1 - c0; c++) a[c] += row[c];
  }
  for (int c = c0; c < c1; c++) out[c] = acc[c - c0];
}

SHIFTMIX_HOT void biasGeluRows(int64_t first, int64_t last, int dim, const float* x, const float* b, float* y) {
  for (int64_t r = first; r < last; r++) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    for (int c = 0; c < dim; c++) {
      const float z = xr[c] + b[c];
      yr[c] = 0.5f * z * (1.0f + fastTanh(kGeluC * (z + 0.044715f * z * z * z)));
    }
  }
}

SHIFTMIX_HOT void biasGeluBackRows(int64_t first, int64_t last, int dim, const float* dy, const float* x, const float* b, float* dx, double* sums) {
  for (int64_t r = first; r < last; r++) {
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
}

}  // namespace

// Inverted dropout by the project's hash: y[i] = x[i] * scale where
// mix32(mix32(i + key1) ^ key2) >= threshold, else 0 (keys and threshold from the seed and rate).
void dropout(int64_t n, const float* x, float* y, uint32_t key1, uint32_t key2, uint32_t threshold, float scale) {
  parallelFor(n, 1 << 15, [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; i++) {
      uint32_t h = static_cast<uint32_t>(i) + key1;
      h ^= h >> 16;
      h *= 0x7feb352du;
      h ^= h >> 15;
      h *= 0x846ca68bu;
      h ^= h >> 16;
      h ^= key2;
      h ^= h >> 16;
      h *= 0x7feb352du;
      h ^= h >> 15;
      h *= 0x846ca68bu;
      h ^= h >> 16;
      y[i] = h >= threshold ? x[i] * scale : 0.0f;
    }
  });
}

// Columns split between the pool's threads, each summing its rows in order.
void columnSums(int64_t rows, int cols, const float* x, float* out) {
  parallelFor(cols, std::max<int64_t>(8, 16384 / std::max<int64_t>(1, rows)), [&](int64_t a, int64_t b) { columnSumsOf(rows, cols, int(a), int(b), x, out); });
}

// y = gelu(x + b), tanh form; b has `dim` entries, one per column.
void biasGeluForward(int64_t rows, int dim, const float* x, const float* b, float* y) {
  parallelFor(rows, rowGrain(dim), [&](int64_t first, int64_t last) { biasGeluRows(first, last, dim, x, b, y); });
}

void biasGeluBackward(int64_t rows, int dim, const float* dy, const float* x, const float* b, float* dx, float* db) {
  std::vector<double> sums(dim);
  parallelSums(rows, rowGrain(dim), dim, [&](int64_t first, int64_t last, double* acc) { biasGeluBackRows(first, last, dim, dy, x, b, dx, acc); }, sums.data());
  for (int c = 0; c < dim; c++) db[c] = static_cast<float>(sums[c]);
}

// log(sum(exp(row))) over `vocab` entries. The max and the sum run in kLanes independent
// lanes, which the compiler vectorizes; one running sum would be a serial chain of adds (a
// GPT-2 vocabulary made the forward take 8 ns a logit). Lanes are summed in double.
SHIFTMIX_HOT static float logSumExp(const float* row, int vocab) {
  constexpr int kLanes = 16;
  float lanes[kLanes];
  for (int l = 0; l < kLanes; l++) lanes[l] = -INFINITY;
  const int whole = vocab - vocab % kLanes;
  for (int v = 0; v < whole; v += kLanes)
    for (int l = 0; l < kLanes; l++) lanes[l] = row[v + l] > lanes[l] ? row[v + l] : lanes[l];
  float m = -INFINITY;
  for (int l = 0; l < kLanes; l++) m = std::fmax(m, lanes[l]);
  for (int v = whole; v < vocab; v++) m = std::fmax(m, row[v]);
  for (int l = 0; l < kLanes; l++) lanes[l] = 0.0f;
  for (int v = 0; v < whole; v += kLanes)
    for (int l = 0; l < kLanes; l++) lanes[l] += fastExp(row[v + l] - m);
  double s = 0;
  for (int l = 0; l < kLanes; l++) s += lanes[l];
  for (int v = whole; v < vocab; v++) s += fastExp(row[v] - m);
  return m + static_cast<float>(std::log(s));
}

// Mean cross-entropy over rows with 0 <= target < vocab (targets < 0 ignored, one >= vocab
// makes everything NaN). lse [rows] keeps each row's log-sum-exp for the backward; the
// return value is the loss.
float crossEntropyForward(int64_t rows, int vocab, const float* logits, const int32_t* targets, float* lse) {
  double total = 0;
  int64_t count = 0;
  bool outOfRange = false;
  parallelFor(rows, rowGrain(vocab), [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; r++) lse[r] = logSumExp(logits + r * vocab, vocab);
  });
  for (int64_t r = 0; r < rows; r++) {
    const float* row = logits + r * vocab;
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

SHIFTMIX_HOT static void crossEntropyBackRows(int64_t first, int64_t last, int vocab, float scale, bool outOfRange, const float* logits,
                                              const int32_t* targets, const float* lse, float* dlogits) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int64_t r = first; r < last; r++) {
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

void crossEntropyBackward(int64_t rows, int vocab, float dy, const float* logits, const int32_t* targets, const float* lse,
                                       float* dlogits) {
  int64_t count = 0;
  bool outOfRange = false;
  for (int64_t r = 0; r < rows; r++) {
    if (targets[r] >= vocab) outOfRange = true;
    if (targets[r] >= 0) count++;
  }
  const float scale = dy / static_cast<float>(count > 0 ? count : 1);
  parallelFor(rows, rowGrain(vocab), [&](int64_t first, int64_t last) { crossEntropyBackRows(first, last, vocab, scale, outOfRange, logits, targets, lse, dlogits); });
}

}  // namespace shiftmix

namespace shiftmix::napi {
namespace {

// columnSums(x, out, rows, cols)
napi_value ColumnSums(napi_env env, napi_callback_info info) {
  return withArgs<4>(env, info, [&](napi_value* a) {
    const View x = viewOf(env, a[0], "x"), out = viewOf(env, a[1], "out");
    const Rows r = rowsOf(env, a[2], a[3]);
    needs(x, r.size(), "x");
    needs(out, r.dim, "out");
    columnSums(r.rows, r.dim, x.data, out.data);
  });
}

// dropout(x, y, key1, key2, threshold, scale)
napi_value Dropout(napi_env env, napi_callback_info info) {
  return withArgs<6>(env, info, [&](napi_value* a) {
    const View x = viewOf(env, a[0], "x"), y = viewOf(env, a[1], "y");
    needs(y, static_cast<int64_t>(x.length), "y");
    const auto u32 = [&](napi_value v, const char* name) { return static_cast<uint32_t>(static_cast<int64_t>(numberOf(env, v, name))); };
    dropout(static_cast<int64_t>(x.length), x.data, y.data, u32(a[2], "key1"), u32(a[3], "key2"), u32(a[4], "threshold"), float(numberOf(env, a[5], "scale")));
  });
}

// biasGeluForward(x, b, y, rows, dim)
napi_value BiasGeluForward(napi_env env, napi_callback_info info) {
  return withArgs<5>(env, info, [&](napi_value* a) {
    const View x = viewOf(env, a[0], "x"), b = viewOf(env, a[1], "b"), y = viewOf(env, a[2], "y");
    const Rows r = rowsOf(env, a[3], a[4]);
    for (const View* v : {&x, &y}) needs(*v, r.size(), "x and y");
    needs(b, r.dim, "b");
    biasGeluForward(r.rows, r.dim, x.data, b.data, y.data);
  });
}

// biasGeluBackward(dy, x, b, dx, db, rows, dim)
napi_value BiasGeluBackward(napi_env env, napi_callback_info info) {
  return withArgs<7>(env, info, [&](napi_value* a) {
    const View dy = viewOf(env, a[0], "dy"), x = viewOf(env, a[1], "x"), b = viewOf(env, a[2], "b"), dx = viewOf(env, a[3], "dx"),
               db = viewOf(env, a[4], "db");
    const Rows r = rowsOf(env, a[5], a[6]);
    for (const View* v : {&dy, &x, &dx}) needs(*v, r.size(), "dy, x and dx");
    for (const View* v : {&b, &db}) needs(*v, r.dim, "b and db");
    biasGeluBackward(r.rows, r.dim, dy.data, x.data, b.data, dx.data, db.data);
  });
}

// crossEntropyForward(logits, targets, lse, rows, vocab) -> loss
napi_value CrossEntropyForward(napi_env env, napi_callback_info info) {
  return withArgs<5>(env, info, [&](napi_value* a) {
    const View logits = viewOf(env, a[0], "logits"), lse = viewOf(env, a[2], "lse");
    const IntView targets = intViewOf(env, a[1], "targets");
    const Rows r = rowsOf(env, a[3], a[4]);
    needs(logits, r.size(), "logits");
    needs(targets.length, r.rows, "targets");
    needs(lse, r.rows, "lse");
    napi_value out;
    napi_create_double(env, crossEntropyForward(r.rows, r.dim, logits.data, targets.data, lse.data), &out);
    return out;
  });
}

// crossEntropyBackward(dy, logits, targets, lse, dlogits, rows, vocab)
napi_value CrossEntropyBackward(napi_env env, napi_callback_info info) {
  return withArgs<7>(env, info, [&](napi_value* a) {
    const View logits = viewOf(env, a[1], "logits"), lse = viewOf(env, a[3], "lse"), dlogits = viewOf(env, a[4], "dlogits");
    const IntView targets = intViewOf(env, a[2], "targets");
    const Rows r = rowsOf(env, a[5], a[6]);
    for (const View* v : {&logits, &dlogits}) needs(*v, r.size(), "logits and dlogits");
    needs(targets.length, r.rows, "targets");
    needs(lse, r.rows, "lse");
    crossEntropyBackward(r.rows, r.dim, float(numberOf(env, a[0], "dy")), logits.data, targets.data, lse.data, dlogits.data);
  });
}

SHIFTMIX_BINDING("columnSums", ColumnSums);
SHIFTMIX_BINDING("dropout", Dropout);
SHIFTMIX_BINDING("biasGeluForward", BiasGeluForward);
SHIFTMIX_BINDING("biasGeluBackward", BiasGeluBackward);
SHIFTMIX_BINDING("crossEntropyForward", CrossEntropyForward);
SHIFTMIX_BINDING("crossEntropyBackward", CrossEntropyBackward);

}  // namespace
}  // namespace shiftmix::napi
