// The HSM shift mixers, one channel group at a time so that the inner loop runs over
// contiguous channels with one shift (and vectorizes).
#include <algorithm>
#include <vector>
#include "kernels.h"
#include "pool.h"

namespace shiftmix {
namespace {

struct Group {
  int start, size, shift;
};

// The channel groups of core's channelGroups: the first dim % groups get one more channel.
std::vector<Group> groupsOf(const ShiftCall& call) {
  std::vector<Group> out;
  const int base = call.dim / call.groups, extra = call.dim % call.groups;
  int start = 0;
  for (int g = 0; g < call.groups; g++) {
    const int size = base + (g < extra ? 1 : 0);
    out.push_back({start, size, call.shifts[g]});
    start += size;
  }
  return out;
}

// Runs body(row, shiftedRow, group) for every (b, t) with b in [b0, b1), and every group:
// shiftedRow is the row t - s of the same sequence, or -1 before the start.
template <typename Body>
void forEachRow(const ShiftCall& call, int64_t b0, int64_t b1, Body body) {
  for (const Group& g : groupsOf(call))
    for (int64_t b = b0; b < b1; b++)
      for (int t = 0; t < call.length; t++) {
        const int64_t row = (b * call.length + t) * call.dim;
        const int64_t from = t >= g.shift ? row - static_cast<int64_t>(g.shift) * call.dim : -1;
        body(row, from, g);
      }
}

// Sequences per chunk of work: enough that waking a thread pays for itself.
int64_t batchGrain(const ShiftCall& call) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, static_cast<int64_t>(call.length) * call.dim)); }

// Runs rows(b0, b1) over the batch, sequences split between the pool's threads (each
// sequence's rows stay on one thread, so a pass that reads and writes them stays in order).
template <typename Rows>
void forEachSequence(const ShiftCall& call, Rows rows) {
  parallelFor(call.batch, batchGrain(call), rows);
}

}  // namespace

SHIFTMIX_HOT void groupShift(const ShiftCall& call, const float* x, float* y, bool back) {
  forEachSequence(call, [&](int64_t b0, int64_t b1) {
  forEachRow(call, b0, b1, [&](int64_t row, int64_t from, const Group& g) {
    // Forward: y[t] = x[t - s] (0 before the start). Back: y[t - s] = x[t], the rows past the end 0.
    if (!back) {
      for (int c = g.start; c < g.start + g.size; c++) y[row + c] = from >= 0 ? x[from + c] : 0.0f;
      return;
    }
    const int64_t t = (row / call.dim) % call.length;
    if (t + g.shift >= call.length)
      for (int c = g.start; c < g.start + g.size; c++) y[row + c] = 0.0f;
    if (from >= 0)
      for (int c = g.start; c < g.start + g.size; c++) y[from + c] = x[row + c];
  });
  });
}

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

SHIFTMIX_HOT void fusionBlendForward(const ShiftCall& call, const float* g, const float* v, float* y) {
  forEachSequence(call, [&](int64_t b0, int64_t b1) {
    forEachRow(call, b0, b1, [&](int64_t row, int64_t from, const Group& grp) {
      for (int c = grp.start; c < grp.start + grp.size; c++) {
        const float shifted = from >= 0 ? v[from + c] : 0.0f;
        y[row + c] = shifted + g[row + c] * (v[row + c] - shifted);
      }
    });
  });
}

SHIFTMIX_HOT void fusionBlendBackward(const ShiftCall& call, const float* dy, const float* g, const float* v, float* dg, float* dv) {
  // y[t] = (1 - g[t]) v[t - s] + g[t] v[t]: dv[t] = g[t] dy[t] + (1 - g[t + s]) dy[t + s].
  forEachSequence(call, [&](int64_t b0, int64_t b1) {
    forEachRow(call, b0, b1, [&](int64_t row, int64_t from, const Group& grp) {
      for (int c = grp.start; c < grp.start + grp.size; c++) {
        const float shifted = from >= 0 ? v[from + c] : 0.0f;
        dg[row + c] = dy[row + c] * (v[row + c] - shifted);
        dv[row + c] = g[row + c] * dy[row + c];
      }
    });
    forEachRow(call, b0, b1, [&](int64_t row, int64_t from, const Group& grp) {
      if (from < 0) return;
      for (int c = grp.start; c < grp.start + grp.size; c++) dv[from + c] += (1.0f - g[row + c]) * dy[row + c];
    });
  });
}

}  // namespace shiftmix
