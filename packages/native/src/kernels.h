// What the kernels' files share: matrix products (through the BLAS when there is one),
// column sums, and the build of their hot loops. Each kernel's own declarations stay in
// its file, beside its loops and its bindings. Buffers are floats the caller owns,
// row-major everywhere; the thread pool is pool.h.
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

// out[c] = sum over rows of x[r, c]: the reduction of a bias's gradient (pointwise.cc).
void columnSums(int64_t rows, int cols, const float* x, float* out);

}  // namespace shiftmix
