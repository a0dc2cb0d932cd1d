// What the shift mixers' kernels share: the call over u [batch, length, dim] whose
// channels form contiguous groups, one shift each; the loops over those groups, one group
// at a time so that the inner loop runs over contiguous channels with one shift (and
// vectorizes); and the parsing of the arguments every shift binding ends with.
#pragma once
#include <algorithm>
#include <initializer_list>
#include <vector>
#include "napi-util.h"
#include "pool.h"

namespace shiftmix {

// Shift mixing over u [batch, length, dim] whose channels form shifts.size() contiguous
// groups (sizes differ by at most one, the larger first); group g is delayed by shifts[g].
struct ShiftCall {
  int batch, length, dim;
  const int32_t* shifts;
  int groups;
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

// The last four arguments of every shift call: shifts (Int32Array, one per group), batch, length, dim.
inline ShiftCall shiftCallOf(napi_env env, napi_value* a) {
  const IntView shifts = intViewOf(env, a[0], "shifts");
  ShiftCall call{int(numberOf(env, a[1], "batch")), int(numberOf(env, a[2], "length")), int(numberOf(env, a[3], "dim")), shifts.data,
                 static_cast<int>(shifts.length)};
  if (call.batch < 0 || call.length < 0 || call.dim < 1 || call.groups < 1 || call.groups > call.dim)
    throw Error{"shift kernels need batch, length >= 0, dim >= 1 and between 1 and dim shifts"};
  for (int g = 0; g < call.groups; g++)
    if (shifts.data[g] < 0) throw Error{"shifts must be >= 0"};
  return call;
}

struct ShiftArgs {
  ShiftCall call;
  std::vector<float*> data;
};

// The Float32Arrays `names` come first (those whose index is in `perChannel` hold dim floats,
// the others batch * length * dim), then `others` arguments a caller reads itself, then the
// shift call's four.
inline ShiftArgs shiftArgsOf(napi_env env, napi_value* a, std::initializer_list<const char*> names, std::initializer_list<int> perChannel = {},
                             int others = 0) {
  ShiftArgs out{shiftCallOf(env, a + names.size() + others), {}};
  const int64_t size = static_cast<int64_t>(out.call.batch) * out.call.length * out.call.dim;
  int i = 0;
  for (const char* name : names) {
    const View v = viewOf(env, a[i], name);
    needs(v, std::find(perChannel.begin(), perChannel.end(), i) != perChannel.end() ? out.call.dim : size, name);
    out.data.push_back(v.data);
    i++;
  }
  return out;
}

}  // namespace shiftmix::napi
