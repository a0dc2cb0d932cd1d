// Plain C++ kernels on float buffers the caller owns. Row-major everywhere.
#pragma once
#include <cstdint>
#include <string>

// Clones a hot loop for AVX2 + FMA next to the baseline build on x86-64 compilers that
// can, so one binary runs everywhere and uses the wide units where they exist.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SHIFTMIX_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SHIFTMIX_HOT
#endif

namespace shiftmix {

// C[batch][M, N] = alpha * op(A) op(B) + beta * C, op = transpose when the flag is set.
// Consecutive batch entries are strideA / strideB / strideC floats apart (0 broadcasts).
struct GemmCall {
  bool transA, transB;
  int m, n, k, batch;
  int64_t strideA, strideB, strideC;
  float alpha, beta;
};
void gemm(const GemmCall& call, const float* a, const float* b, float* c);
// One product with leading dimensions (row strides) of its own, as cblas_sgemm takes them.
void gemmStrided(bool transA, bool transB, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb, float beta,
                 float* c, int ldc);

// The BLAS found at load time ("openblas", "accelerate", ...), or "builtin".
std::string blasName();
int blasThreads();
void setBlasThreads(int threads);

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

// out (b, h, t, :) = softmax(q k^T * scale + causal mask) v; lse [B, H, T] gets the
// log-sum-exp of each row of scaled scores, which the backward reuses.
void attentionForward(const AttentionCall& call, const float* q, const float* k, const float* v, float* out, float* lse);
// dq, dk, dv (the layout of q, k, v) from dOut, out and lse (null: recomputed). Every
// element of the three is written.
void attentionBackward(const AttentionCall& call, const float* q, const float* k, const float* v, const float* out,
                       const float* dOut, const float* lse, float* dq, float* dk, float* dv);

// Layer norm over rows of `dim` (biased variance, as PyTorch). With h, the row is x + h,
// written to sum on the way. Null h and sum: plain layer norm.
void layerNormForward(int64_t rows, int dim, float eps, const float* x, const float* h, const float* gamma, const float* beta,
                      float* sum, float* normed);
// dx (+ dres when given), dgamma, dbeta of layerNormForward at input x (x + h for the fused add).
void layerNormBackward(int64_t rows, int dim, float eps, const float* dy, const float* x, const float* gamma, const float* dres,
                       float* dx, float* dgamma, float* dbeta);

// out[c] = sum over rows of x[r, c]: the reduction of a bias's gradient.
void columnSums(int64_t rows, int cols, const float* x, float* out);

// Inverted dropout by the project's hash: y[i] = x[i] * scale where
// mix32(mix32(i + key1) ^ key2) >= threshold, else 0 (keys and threshold from the seed and rate).
void dropout(int64_t n, const float* x, float* y, uint32_t key1, uint32_t key2, uint32_t threshold, float scale);

// y = gelu(x + b), tanh form; b has `dim` entries, one per column.
void biasGeluForward(int64_t rows, int dim, const float* x, const float* b, float* y);
void biasGeluBackward(int64_t rows, int dim, const float* dy, const float* x, const float* b, float* dx, float* db);

// Mean cross-entropy over rows with 0 <= target < vocab (targets < 0 ignored, one >= vocab
// makes everything NaN). lse [rows] keeps each row's log-sum-exp for the backward; the
// return value is the loss.
float crossEntropyForward(int64_t rows, int vocab, const float* logits, const int32_t* targets, float* lse);
void crossEntropyBackward(int64_t rows, int vocab, float dy, const float* logits, const int32_t* targets, const float* lse, float* dlogits);

// Shift mixing over u [batch, length, dim] whose channels form shifts.size() contiguous
// groups (sizes differ by at most one, the larger first); group g is delayed by shifts[g].
struct ShiftCall {
  int batch, length, dim;
  const int32_t* shifts;
  int groups;
};
// y = S(x) (back = false), or x shifted the other way, y[t] = x[t + s], the gradient of S (back = true).
void groupShift(const ShiftCall& call, const float* x, float* y, bool back);
// y = a * u + b * S(u), a and b per channel.
void hsmAbForward(const ShiftCall& call, const float* u, const float* a, const float* b, float* y);
void hsmAbBackward(const ShiftCall& call, const float* dy, const float* u, const float* a, const float* b, float* du, float* da, float* db);
// y = S(v) + g * (v - S(v)), the learned-fusion blend.
void fusionBlendForward(const ShiftCall& call, const float* g, const float* v, float* y);
void fusionBlendBackward(const ShiftCall& call, const float* dy, const float* g, const float* v, float* dg, float* dv);

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
// Global-norm clip and AdamW update in place; returns the norm before clipping and
// whether it applied (nothing changes when the loss or the norm is not finite, or halt is set;
// the first case sets halt).
void adamw(const AdamWCall& call, AdamWTensor* tensors, int count, float* halt, float* report);

}  // namespace shiftmix
