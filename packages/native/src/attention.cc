// Causal softmax attention on the CPU, a head and a block of queries at a time: the
// block's scores against the keys it may see come from one matrix product, as do its
// outputs and, in the backward, every gradient. Only the block's scores are held, so
// memory stays O(block x T) per thread whatever the context; the backward recomputes the
// probabilities from the saved log-sum-exp (flash attention's trick).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#include "fastmath.h"
#include "kernels.h"
#include "napi-util.h"
#include "pool.h"

namespace shiftmix {

// Where the heads of q, k, v (and of out) live: element (b, h, t, c) of a tensor is at
// base + b * batch + h * head + t * row + c. Packed qkv [B, T, 3D] and [B, H, T, hd]
// are both such layouts.
struct HeadLayout {
  int64_t batch, head, row;
};

struct AttentionCall {
  int batch, heads, length, headDim;
  float scale;
  int window;          // 0: every earlier position
  float dropoutRate;   // on the probabilities, 0 when not training
  uint32_t seed;
  HeadLayout in, out;  // `in` for q, k, v and their gradients, `out` for out and dOut
  int threads;         // 1: one thread; else the heads are split over the pool's threads
};

namespace {

const int kBlock = 64;

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

// One head's rows and the query block being worked on.
struct Block {
  int64_t head, outHead;  // offsets of the head in q/k/v and in out
  int i0, i1;             // queries [i0, i1)
  int k0;                 // first key any of them sees; keys [k0, i1)
  int keys() const { return i1 - k0; }
};

inline int firstKey(const AttentionCall& call, int i) { return call.window > 0 ? std::max(0, i - call.window + 1) : 0; }

// Runs body(block) over every head and query block; heads go to the pool's threads unless
// call.threads is 1.
template <typename Body>
void forEachBlock(const AttentionCall& call, Body body) {
  auto run = [&](int64_t first, int64_t last) {
    for (int64_t bh = first; bh < last; bh++) {
      const int b = static_cast<int>(bh / call.heads), h = static_cast<int>(bh % call.heads);
      const int64_t head = b * call.in.batch + h * call.in.head, outHead = b * call.out.batch + h * call.out.head;
      for (int i0 = 0; i0 < call.length; i0 += kBlock) {
        const int i1 = std::min(call.length, i0 + kBlock);
        body(static_cast<int>(bh), Block{head, outHead, i0, i1, firstKey(call, i0)});
      }
    }
  };
  const int64_t total = static_cast<int64_t>(call.batch) * call.heads;
  if (call.threads == 1) return run(0, total);
  // The heads already keep the cores busy: a BLAS that threads each block's products as
  // well puts two threads on every core, which from T = 1024 on (where its products pass
  // its threading threshold) made a doubled context cost 9-12x instead of 4x.
  const int blasWas = blasThreads();
  if (blasWas > 1) setBlasThreads(1);
  try {
    parallelFor(total, 1, run);
  } catch (...) {
    if (blasWas > 1) setBlasThreads(blasWas);
    throw;
  }
  if (blasWas > 1) setBlasThreads(blasWas);
}

// s [rows, keys] = scale * q_block k_block^T.
void scores(const AttentionCall& call, const Block& bl, const float* q, const float* k, float* s) {
  const int row = static_cast<int>(call.in.row);
  gemmStrided(false, true, bl.i1 - bl.i0, bl.keys(), call.headDim, call.scale, q + bl.head + bl.i0 * call.in.row, row,
              k + bl.head + bl.k0 * call.in.row, row, 0.0f, s, bl.keys());
}

// Turns row r of s into probabilities exp(s - lse) on the visible keys and 0 elsewhere.
SHIFTMIX_HOT void probabilities(const AttentionCall& call, const Block& bl, int r, float* s, float rowLse) {
  const int i = bl.i0 + r, lo = firstKey(call, i) - bl.k0, hi = i - bl.k0, n = bl.keys();
  float* row = s + static_cast<int64_t>(r) * n;
  for (int j = 0; j < n; j++) row[j] = j >= lo && j <= hi ? fastExp(row[j] - rowLse) : 0.0f;
}

// The log-sum-exp of row r's visible scores.
float logSumExp(const AttentionCall& call, const Block& bl, int r, const float* s) {
  const int i = bl.i0 + r, lo = firstKey(call, i) - bl.k0, hi = i - bl.k0;
  const float* row = s + static_cast<int64_t>(r) * bl.keys();
  float m = -INFINITY;
  for (int j = lo; j <= hi; j++) m = std::max(m, row[j]);
  float l = 0.0f;
  for (int j = lo; j <= hi; j++) l += fastExp(row[j] - m);
  return m + std::log(l);
}

// Row r of s becomes its softmax over the visible keys (0 elsewhere), with one exp per
// score; returns the row's log-sum-exp.
SHIFTMIX_HOT float softmaxRow(const AttentionCall& call, const Block& bl, int r, float* s) {
  const int i = bl.i0 + r, lo = firstKey(call, i) - bl.k0, hi = i - bl.k0, n = bl.keys();
  float* row = s + static_cast<int64_t>(r) * n;
  float m = -INFINITY;
  for (int j = lo; j <= hi; j++) m = std::max(m, row[j]);
  for (int j = 0; j < n; j++) row[j] = j >= lo && j <= hi ? fastExp(row[j] - m) : 0.0f;
  float l = 0.0f;
  for (int j = lo; j <= hi; j++) l += row[j];
  const float inv = 1.0f / l;
  for (int j = 0; j < n; j++) row[j] *= inv;
  return m + std::log(l);
}

}  // namespace

// out (b, h, t, :) = softmax(q k^T * scale + causal mask) v; lse [B, H, T] gets the
// log-sum-exp of each row of scaled scores, which the backward reuses.
void attentionForward(const AttentionCall& call, const float* q, const float* k, const float* v, float* out, float* lse) {
  const Dropout drop = dropoutOf(call);
  forEachBlock(call, [&](int bh, const Block& bl) {
    thread_local std::vector<float> s;
    const int rows = bl.i1 - bl.i0, n = bl.keys();
    s.resize(static_cast<size_t>(rows) * n);
    scores(call, bl, q, k, s.data());
    const uint32_t headSeed = drop.seedOf(call.seed, bh);
    for (int r = 0; r < rows; r++) {
      lse[static_cast<int64_t>(bh) * call.length + bl.i0 + r] = softmaxRow(call, bl, r, s.data());
      if (drop.on)
        for (int j = 0; j < n; j++) s[static_cast<size_t>(r) * n + j] *= drop.scale(headSeed, bl.i0 + r, bl.k0 + j, call.length);
    }
    gemmStrided(false, false, rows, call.headDim, n, 1.0f, s.data(), n, v + bl.head + bl.k0 * call.in.row, static_cast<int>(call.in.row), 0.0f,
                out + bl.outHead + bl.i0 * call.out.row, static_cast<int>(call.out.row));
  });
}

// dq, dk, dv (the layout of q, k, v) from dOut, out and lse (null: recomputed). Every
// element of the three is written.
void attentionBackward(const AttentionCall& call, const float* q, const float* k, const float* v, const float* out,
                       const float* dOut, const float* lse, float* dq, float* dk, float* dv) {
  const Dropout drop = dropoutOf(call);
  const int hd = call.headDim, row = static_cast<int>(call.in.row), outRow = static_cast<int>(call.out.row);
  forEachBlock(call, [&](int bh, const Block& bl) {
    thread_local std::vector<float> p, dp, dpd;
    const int rows = bl.i1 - bl.i0, n = bl.keys();
    // dK and dV accumulate over the head's query blocks, so they start at 0 with its first.
    if (bl.i0 == 0)
      for (int j = 0; j < call.length; j++) {
        std::memset(dk + bl.head + j * call.in.row, 0, sizeof(float) * hd);
        std::memset(dv + bl.head + j * call.in.row, 0, sizeof(float) * hd);
      }
    p.resize(static_cast<size_t>(rows) * n);
    dp.resize(p.size());
    scores(call, bl, q, k, p.data());
    for (int r = 0; r < rows; r++) {
      const float rowLse = lse ? lse[static_cast<int64_t>(bh) * call.length + bl.i0 + r] : logSumExp(call, bl, r, p.data());
      probabilities(call, bl, r, p.data(), rowLse);
    }
    const float* dOutBlock = dOut + bl.outHead + bl.i0 * call.out.row;
    // dP (with dropout: of the dropped probabilities) = dO V^T.
    gemmStrided(false, true, rows, n, hd, 1.0f, dOutBlock, outRow, v + bl.head + bl.k0 * call.in.row, row, 0.0f, dp.data(), n);
    const uint32_t headSeed = drop.seedOf(call.seed, bh);
    if (drop.on) dpd.resize(p.size());
    for (int r = 0; r < rows; r++) {
      // D_r = dO_r . O_r = sum_j P_rj dP_rj, the softmax's correction term.
      const float* o = out + bl.outHead + (bl.i0 + r) * call.out.row;
      const float* d = dOutBlock + r * call.out.row;
      float dr = 0.0f;
      for (int c = 0; c < hd; c++) dr += o[c] * d[c];
      float* pr = p.data() + static_cast<size_t>(r) * n;
      float* dpr = dp.data() + static_cast<size_t>(r) * n;
      for (int j = 0; j < n; j++) {
        const float keep = drop.on ? drop.scale(headSeed, bl.i0 + r, bl.k0 + j, call.length) : 1.0f;
        if (drop.on) dpd[static_cast<size_t>(r) * n + j] = pr[j] * keep;
        dpr[j] = pr[j] * (dpr[j] * keep - dr);  // dS
      }
    }
    // dV += P_dropped^T dO, dQ = scale dS K, dK += scale dS^T Q.
    gemmStrided(true, false, n, hd, rows, 1.0f, drop.on ? dpd.data() : p.data(), n, dOutBlock, outRow, 1.0f, dv + bl.head + bl.k0 * call.in.row, row);
    gemmStrided(false, false, rows, hd, n, call.scale, dp.data(), n, k + bl.head + bl.k0 * call.in.row, row, 0.0f, dq + bl.head + bl.i0 * call.in.row, row);
    gemmStrided(true, false, n, hd, rows, call.scale, dp.data(), n, q + bl.head + bl.i0 * call.in.row, row, 1.0f, dk + bl.head + bl.k0 * call.in.row, row);
  });
}

}  // namespace shiftmix

namespace shiftmix::napi {
namespace {

// The numbers that follow the views of both attention calls.
shiftmix::AttentionCall attentionCallOf(napi_env env, napi_value* argv) {
  double n[15];
  for (int i = 0; i < 15; i++) n[i] = numberOf(env, argv[i], "attention parameter");
  shiftmix::AttentionCall call{int(n[0]), int(n[1]), int(n[2]), int(n[3]), float(n[4]), int(n[5]), float(n[6]), uint32_t(int64_t(n[7])),
                               {int64_t(n[8]), int64_t(n[9]), int64_t(n[10])}, {int64_t(n[11]), int64_t(n[12]), int64_t(n[13])}, int(n[14])};
  if (call.batch < 0 || call.heads < 1 || call.length < 0 || call.headDim < 1 || call.window < 0 || !(call.dropoutRate >= 0 && call.dropoutRate < 1))
    throw Error{"attention needs batch >= 0, heads >= 1, length >= 0, headDim >= 1, window >= 0 and 0 <= dropoutRate < 1"};
  return call;
}

// One past the last element a head layout reaches.
int64_t extentOf(const shiftmix::AttentionCall& c, const shiftmix::HeadLayout& l) {
  if (c.batch == 0 || c.length == 0) return 0;
  return (c.batch - 1) * l.batch + (c.heads - 1) * l.head + (c.length - 1) * l.row + c.headDim;
}

// attentionForward(q, k, v, out, lse, ...15 numbers)
napi_value AttentionForward(napi_env env, napi_callback_info info) {
  return withArgs<20>(env, info, [&](napi_value* argv) {
    const View q = viewOf(env, argv[0], "q"), k = viewOf(env, argv[1], "k"), v = viewOf(env, argv[2], "v");
    const View out = viewOf(env, argv[3], "out"), lse = viewOf(env, argv[4], "lse");
    const shiftmix::AttentionCall call = attentionCallOf(env, argv + 5);
    for (const auto* x : {&q, &k, &v}) needs(*x, extentOf(call, call.in), "q, k and v");
    needs(out, extentOf(call, call.out), "out");
    needs(lse, int64_t(call.batch) * call.heads * call.length, "lse");
    shiftmix::attentionForward(call, q.data, k.data, v.data, out.data, lse.data);
  });
}

// attentionBackward(q, k, v, out, dOut, lse | null, dq, dk, dv, ...15 numbers)
napi_value AttentionBackward(napi_env env, napi_callback_info info) {
  return withArgs<24>(env, info, [&](napi_value* argv) {
    const char* names[] = {"q", "k", "v", "out", "dOut", "lse", "dq", "dk", "dv"};
    View views[9];
    for (int i = 0; i < 9; i++) views[i] = viewOf(env, argv[i], names[i], i == 5);
    const shiftmix::AttentionCall call = attentionCallOf(env, argv + 9);
    for (int i : {0, 1, 2, 6, 7, 8}) needs(views[i], extentOf(call, call.in), names[i]);
    for (int i : {3, 4}) needs(views[i], extentOf(call, call.out), names[i]);
    if (views[5].data) needs(views[5], int64_t(call.batch) * call.heads * call.length, "lse");
    shiftmix::attentionBackward(call, views[0].data, views[1].data, views[2].data, views[3].data, views[4].data, views[5].data,
                                views[6].data, views[7].data, views[8].data);
  });
}

SHIFTMIX_BINDING("attentionForward", AttentionForward);
SHIFTMIX_BINDING("attentionBackward", AttentionBackward);

}  // namespace
}  // namespace shiftmix::napi
