// The HSM shift mixers, one channel group at a time so that the inner loop runs over
// contiguous channels with one shift (and vectorizes).
#include <vector>
#include "kernels.h"

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

// Runs body(row, shiftedRow, group) for every (b, t) and group: shiftedRow is the row t - s
// of the same sequence, or -1 before the start.
template <typename Body>
void forEachRow(const ShiftCall& call, Body body) {
  for (const Group& g : groupsOf(call))
    for (int b = 0; b < call.batch; b++)
      for (int t = 0; t < call.length; t++) {
        const int64_t row = (static_cast<int64_t>(b) * call.length + t) * call.dim;
        const int64_t from = t >= g.shift ? row - static_cast<int64_t>(g.shift) * call.dim : -1;
        body(row, from, g);
      }
}

}  // namespace

SHIFTMIX_HOT void groupShift(const ShiftCall& call, const float* x, float* y, bool back) {
  forEachRow(call, [&](int64_t row, int64_t from, const Group& g) {
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
}

SHIFTMIX_HOT void hsmAbForward(const ShiftCall& call, const float* u, const float* a, const float* b, float* y) {
  forEachRow(call, [&](int64_t row, int64_t from, const Group& g) {
    float* __restrict yr = y + row;
    const float* __restrict ur = u + row;
    for (int c = g.start; c < g.start + g.size; c++) yr[c] = a[c] * ur[c] + (from >= 0 ? b[c] * u[from + c] : 0.0f);
  });
}

SHIFTMIX_HOT void hsmAbBackward(const ShiftCall& call, const float* dy, const float* u, const float* a, const float* b, float* du, float* da,
                                float* db) {
  std::vector<double> sa(call.dim, 0.0), sb(call.dim, 0.0);
  // du[t] = a dy[t] + b dy[t + s]: written as du[t] = a dy[t], then du[t - s] += b dy[t].
  forEachRow(call, [&](int64_t row, int64_t, const Group& g) {
    for (int c = g.start; c < g.start + g.size; c++) {
      du[row + c] = a[c] * dy[row + c];
      sa[c] += dy[row + c] * u[row + c];
    }
  });
  forEachRow(call, [&](int64_t row, int64_t from, const Group& g) {
    if (from < 0) return;
    for (int c = g.start; c < g.start + g.size; c++) {
      du[from + c] += b[c] * dy[row + c];
      sb[c] += dy[row + c] * u[from + c];
    }
  });
  for (int c = 0; c < call.dim; c++) {
    da[c] = static_cast<float>(sa[c]);
    db[c] = static_cast<float>(sb[c]);
  }
}

SHIFTMIX_HOT void fusionBlendForward(const ShiftCall& call, const float* g, const float* v, float* y) {
  forEachRow(call, [&](int64_t row, int64_t from, const Group& grp) {
    for (int c = grp.start; c < grp.start + grp.size; c++) {
      const float shifted = from >= 0 ? v[from + c] : 0.0f;
      y[row + c] = shifted + g[row + c] * (v[row + c] - shifted);
    }
  });
}

SHIFTMIX_HOT void fusionBlendBackward(const ShiftCall& call, const float* dy, const float* g, const float* v, float* dg, float* dv) {
  // y[t] = (1 - g[t]) v[t - s] + g[t] v[t]: dv[t] = g[t] dy[t] + (1 - g[t + s]) dy[t + s].
  forEachRow(call, [&](int64_t row, int64_t from, const Group& grp) {
    for (int c = grp.start; c < grp.start + grp.size; c++) {
      const float shifted = from >= 0 ? v[from + c] : 0.0f;
      dg[row + c] = dy[row + c] * (v[row + c] - shifted);
      dv[row + c] = g[row + c] * dy[row + c];
    }
  });
  forEachRow(call, [&](int64_t row, int64_t from, const Group& grp) {
    if (from < 0) return;
    for (int c = grp.start; c < grp.start + grp.size; c++) dv[from + c] += (1.0f - g[row + c]) * dy[row + c];
  });
}

}  // namespace shiftmix
