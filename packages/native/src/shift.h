// What the shift mixers' kernels share: the call over u [batch, length, dim] whose
// channels form contiguous groups, one shift each; the loops over those groups, one group
// at a time so that the inner loop runs over contiguous channels with one shift (and
// vectorizes); and the shift call every shift kernel reads from its KernelCall.
#pragma once
#include <algorithm>
#include <string>
#include <vector>
#include "napi-util.h"
#include "pool.h"

namespace shiftmix {

// Shift mixing over u [batch, length, dim] whose channels form shifts.size() contiguous
// groups (sizes differ by at most one, the larger first); group g is delayed by shifts[g].
struct ShiftCall {
  int batch, length, dim;
  std::vector<int32_t> shifts;
  int groups;
  // Floats of u: batch * length * dim.
  int64_t size() const { return static_cast<int64_t>(batch) * length * dim; }
};

struct Group {
  int start, size, shift;
};

// The channel groups of core's channelGroups: the first dim % groups get one more channel.
inline std::vector<Group> groupsOf(const ShiftCall& call) {
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
inline int64_t batchGrain(const ShiftCall& call) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, static_cast<int64_t>(call.length) * call.dim)); }

// Runs rows(b0, b1) over the batch, sequences split between the pool's threads (each
// sequence's rows stay on one thread, so a pass that reads and writes them stays in order).
template <typename Rows>
void forEachSequence(const ShiftCall& call, Rows rows) {
  parallelFor(call.batch, batchGrain(call), rows);
}

}  // namespace shiftmix

namespace shiftmix::napi {

// The shift call of a shift kernel: [batch, length, dim] from the shape of input `input`
// (named `name` in the kernel's contract), one shift per channel group from the attribute
// `shifts`. Its views are the kernel's to check (KernelCall's input and output).
inline ShiftCall shiftCallOf(const KernelCall& k, uint32_t input, const char* name) {
  const Shape shape = k.shape(input, name);
  if (shape.rank != 3) throw Error{std::string(name) + " must be [B, T, D], got shape " + shape.str()};
  ShiftCall call{int(shape[0]), int(shape[1]), int(shape[2]), k.ints("shifts"), 0};
  call.groups = static_cast<int>(call.shifts.size());
  if (call.dim < 1 || call.groups < 1 || call.groups > call.dim)
    throw Error{"shift kernels need dim >= 1 and between 1 and dim shifts, got dim " + std::to_string(call.dim) + " and " +
                std::to_string(call.groups) + " shifts"};
  for (int32_t s : call.shifts)
    if (s < 0) throw Error{"shifts must be >= 0"};
  return call;
}

}  // namespace shiftmix::napi
