// Causal softmax attention for short and middle contexts on the CPU: one head at a time,
// row by row, with the probabilities recomputed in the backward from the saved
// log-sum-exp (flash attention's trick, so memory stays O(T) per head).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>
#include "kernels.h"

namespace shiftmix {
namespace {

// lowbias32, the hash behind every dropout mask of the project: the same mask on every backend.
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

struct Dropout {
  bool on = false;
  uint32_t threshold = 0;
  float keepScale = 1.0f;
  uint32_t seedOf(uint32_t seed, uint32_t head) const { return mix32(mix32(seed) ^ head); }
  // 0 for a dropped probability, else 1 / (1 - rate).
  float scale(uint32_t headSeed, int q, int k, int length) const {
    if (!on) return 1.0f;
    const uint32_t h = mix32(mix32(static_cast<uint32_t>(q) * static_cast<uint32_t>(length) + static_cast<uint32_t>(k)) ^ headSeed);
    return h >= threshold ? keepScale : 0.0f;
  }
};

Dropout dropoutOf(const AttentionCall& call) {
  Dropout d;
  if (call.dropoutRate <= 0.0f) return d;
  d.on = true;
  const double t = std::nearbyint(static_cast<double>(call.dropoutRate) * 4294967296.0);
  d.threshold = static_cast<uint32_t>(std::min(4294967295.0, std::max(0.0, t)));
  d.keepScale = 1.0f / (1.0f - call.dropoutRate);
  return d;
}

SHIFTMIX_HOT float dot(const float* __restrict a, const float* __restrict b, int n) {
  float s = 0.0f;
  for (int c = 0; c < n; c++) s += a[c] * b[c];
  return s;
}

SHIFTMIX_HOT void axpy(float* __restrict y, float alpha, const float* __restrict x, int n) {
  for (int c = 0; c < n; c++) y[c] += alpha * x[c];
}

struct Head {
  const float *q, *k, *v;
  int64_t row;
};

Head headOf(const AttentionCall& call, int bh, const float* q, const float* k, const float* v) {
  const int64_t off = (bh / call.heads) * call.in.batch + (bh % call.heads) * call.in.head;
  return {q + off, k + off, v + off, call.in.row};
}

int64_t outOffset(const AttentionCall& call, int bh) { return (bh / call.heads) * call.out.batch + (bh % call.heads) * call.out.head; }

inline int firstKey(const AttentionCall& call, int i) { return call.window > 0 ? std::max(0, i - call.window + 1) : 0; }

// Scaled scores of row i into s[lo..i]; returns their log-sum-exp and leaves exp(s - max) in s.
float rowScores(const AttentionCall& call, const Head& hd, int i, float* s) {
  const int lo = firstKey(call, i);
  const float* qi = hd.q + i * hd.row;
  float m = -INFINITY;
  for (int j = lo; j <= i; j++) {
    s[j] = call.scale * dot(qi, hd.k + j * hd.row, call.headDim);
    m = std::max(m, s[j]);
  }
  float l = 0.0f;
  for (int j = lo; j <= i; j++) {
    s[j] = std::exp(s[j] - m);
    l += s[j];
  }
  return m + std::log(l);
}

// Runs body(bh) for every head, split over call.threads threads.
template <typename Body>
void forEachHead(const AttentionCall& call, Body body) {
  const int total = call.batch * call.heads;
  const int threads = std::max(1, std::min(call.threads, total));
  if (threads == 1) {
    for (int bh = 0; bh < total; bh++) body(bh);
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; t++)
    pool.emplace_back([&, t] {
      for (int bh = t; bh < total; bh += threads) body(bh);
    });
  for (auto& th : pool) th.join();
}

}  // namespace

void attentionForward(const AttentionCall& call, const float* q, const float* k, const float* v, float* out, float* lse) {
  const Dropout drop = dropoutOf(call);
  const int n = call.headDim;
  forEachHead(call, [&](int bh) {
    std::vector<float> s(call.length);
    const Head hd = headOf(call, bh, q, k, v);
    float* o = out + outOffset(call, bh);
    const uint32_t headSeed = drop.seedOf(call.seed, bh);
    for (int i = 0; i < call.length; i++) {
      const float rowLse = rowScores(call, hd, i, s.data());
      lse[static_cast<int64_t>(bh) * call.length + i] = rowLse;
      // exp(s - max) / l = exp(s - lse): one factor for the whole row.
      float l = 0.0f;
      const int lo = firstKey(call, i);
      for (int j = lo; j <= i; j++) l += s[j];
      const float inv = 1.0f / l;
      float* oi = o + i * call.out.row;
      std::memset(oi, 0, sizeof(float) * n);
      for (int j = lo; j <= i; j++) {
        const float p = s[j] * inv * drop.scale(headSeed, i, j, call.length);
        if (p != 0.0f) axpy(oi, p, hd.v + j * hd.row, n);
      }
    }
  });
}

void attentionBackward(const AttentionCall& call, const float* q, const float* k, const float* v, const float* out,
                       const float* dOut, const float* lse, float* dq, float* dk, float* dv) {
  const Dropout drop = dropoutOf(call);
  const int n = call.headDim;
  forEachHead(call, [&](int bh) {
    std::vector<float> s(call.length), dqRow(n);
    const Head hd = headOf(call, bh, q, k, v);
    const Head grad = headOf(call, bh, dq, dk, dv);
    float* dqh = const_cast<float*>(grad.q);
    float* dkh = const_cast<float*>(grad.k);
    float* dvh = const_cast<float*>(grad.v);
    const int64_t oOff = outOffset(call, bh);
    const uint32_t headSeed = drop.seedOf(call.seed, bh);
    for (int j = 0; j < call.length; j++) {
      std::memset(dkh + j * hd.row, 0, sizeof(float) * n);
      std::memset(dvh + j * hd.row, 0, sizeof(float) * n);
    }
    for (int i = 0; i < call.length; i++) {
      const float* qi = hd.q + i * hd.row;
      const float* doi = dOut + oOff + i * call.out.row;
      // D_i = dO_i . O_i = sum_j P_ij dP_ij, the softmax's correction term.
      const float di = dot(doi, out + oOff + i * call.out.row, n);
      const float rowLse = lse ? lse[static_cast<int64_t>(bh) * call.length + i] : rowScores(call, hd, i, s.data());
      std::fill(dqRow.begin(), dqRow.end(), 0.0f);
      for (int j = firstKey(call, i); j <= i; j++) {
        const float* kj = hd.k + j * hd.row;
        const float p = std::exp(call.scale * dot(qi, kj, n) - rowLse);
        const float keep = drop.scale(headSeed, i, j, call.length);
        const float dp = dot(doi, hd.v + j * hd.row, n) * keep;
        if (keep != 0.0f) axpy(dvh + j * hd.row, p * keep, doi, n);
        const float ds = p * (dp - di);
        axpy(dqRow.data(), ds, kj, n);
        axpy(dkh + j * hd.row, ds * call.scale, qi, n);
      }
      float* dqi = dqh + i * hd.row;
      for (int c = 0; c < n; c++) dqi[c] = dqRow[c] * call.scale;
    }
  });
}

}  // namespace shiftmix
