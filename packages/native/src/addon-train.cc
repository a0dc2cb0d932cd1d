// The N-API face of the training kernels: layer norm, bias + GELU, the loss and AdamW.
#include <vector>
#include "kernels.h"
#include "napi-util.h"

namespace shiftmix::napi {
namespace {

struct Rows {
  int64_t rows;
  int dim;
  int64_t size() const { return rows * dim; }
};

Rows rowsOf(napi_env env, napi_value rows, napi_value dim) {
  const Rows r{static_cast<int64_t>(numberOf(env, rows, "rows")), static_cast<int>(numberOf(env, dim, "dim"))};
  if (r.rows < 0 || r.dim < 1) throw Error{"rows must be >= 0 and dim >= 1"};
  return r;
}

// layerNormForward(x, h | null, gamma, beta, sum | null, normed, rows, dim, eps)
napi_value LayerNormForward(napi_env env, napi_callback_info info) {
  return withArgs<9>(env, info, [&](napi_value* a) {
    const View x = viewOf(env, a[0], "x"), h = viewOf(env, a[1], "h", true), gamma = viewOf(env, a[2], "gamma"),
               beta = viewOf(env, a[3], "beta"), sum = viewOf(env, a[4], "sum", true), normed = viewOf(env, a[5], "normed");
    const Rows r = rowsOf(env, a[6], a[7]);
    if ((h.data == nullptr) != (sum.data == nullptr)) throw Error{"h and sum come together (the fused residual add) or not at all"};
    for (const View* v : {&x, &normed}) needs(*v, r.size(), "x and normed");
    if (h.data) for (const View* v : {&h, &sum}) needs(*v, r.size(), "h and sum");
    for (const View* v : {&gamma, &beta}) needs(*v, r.dim, "gamma and beta");
    layerNormForward(r.rows, r.dim, float(numberOf(env, a[8], "eps")), x.data, h.data, gamma.data, beta.data, sum.data, normed.data);
  });
}

// layerNormBackward(dy, x, gamma, dres | null, dx, dgamma, dbeta, rows, dim, eps)
napi_value LayerNormBackward(napi_env env, napi_callback_info info) {
  return withArgs<10>(env, info, [&](napi_value* a) {
    const View dy = viewOf(env, a[0], "dy"), x = viewOf(env, a[1], "x"), gamma = viewOf(env, a[2], "gamma"),
               dres = viewOf(env, a[3], "dres", true), dx = viewOf(env, a[4], "dx"), dgamma = viewOf(env, a[5], "dgamma"),
               dbeta = viewOf(env, a[6], "dbeta");
    const Rows r = rowsOf(env, a[7], a[8]);
    for (const View* v : {&dy, &x, &dx}) needs(*v, r.size(), "dy, x and dx");
    if (dres.data) needs(dres, r.size(), "dres");
    for (const View* v : {&gamma, &dgamma, &dbeta}) needs(*v, r.dim, "gamma, dgamma and dbeta");
    layerNormBackward(r.rows, r.dim, float(numberOf(env, a[9], "eps")), dy.data, x.data, gamma.data, dres.data, dx.data, dgamma.data, dbeta.data);
  });
}

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

std::vector<View> viewsOf(napi_env env, napi_value list, const char* name, uint32_t count) {
  uint32_t length = 0;
  bool isArray = false;
  napi_is_array(env, list, &isArray);
  if (isArray) napi_get_array_length(env, list, &length);
  if (!isArray || length != count) throw Error{std::string(name) + " must be an array of " + std::to_string(count) + " Float32Arrays"};
  std::vector<View> views(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    napi_get_element(env, list, i, &item);
    views[i] = viewOf(env, item, name);
  }
  return views;
}

// adamw(p[], m[], v[], g[], decays: number[], halt, report, lr, beta1, beta2, eps, weightDecay, maxNorm, loss, step)
napi_value AdamW(napi_env env, napi_callback_info info) {
  return withArgs<15>(env, info, [&](napi_value* a) {
    uint32_t count = 0;
    napi_get_array_length(env, a[0], &count);
    const auto p = viewsOf(env, a[0], "p", count), m = viewsOf(env, a[1], "m", count), v = viewsOf(env, a[2], "v", count),
               g = viewsOf(env, a[3], "g", count);
    const View halt = viewOf(env, a[5], "halt"), report = viewOf(env, a[6], "report");
    needs(halt, 1, "halt");
    needs(report, 2, "report");
    std::vector<AdamWTensor> tensors(count);
    for (uint32_t i = 0; i < count; i++) {
      const int64_t size = static_cast<int64_t>(p[i].length);
      for (const View* x : {&m[i], &v[i], &g[i]}) needs(*x, size, "each m, v and g");
      napi_value flag;
      napi_get_element(env, a[4], i, &flag);
      tensors[i] = {p[i].data, m[i].data, v[i].data, g[i].data, size, numberOf(env, flag, "decays") != 0};
    }
    double n[8];
    for (int i = 0; i < 8; i++) n[i] = numberOf(env, a[7 + i], "adamw parameter");
    const AdamWCall call{float(n[0]), float(n[1]), float(n[2]), float(n[3]), float(n[4]), float(n[5]), float(n[6]), int(n[7])};
    adamw(call, tensors.data(), static_cast<int>(count), halt.data, report.data);
  });
}

}  // namespace

void defineTrainingKernels(napi_env env, napi_value exports) {
  defineFunctions(env, exports, {
      {"layerNormForward", LayerNormForward},
      {"layerNormBackward", LayerNormBackward},
      {"columnSums", ColumnSums},
      {"dropout", Dropout},
      {"biasGeluForward", BiasGeluForward},
      {"biasGeluBackward", BiasGeluBackward},
      {"crossEntropyForward", CrossEntropyForward},
      {"crossEntropyBackward", CrossEntropyBackward},
      {"adamw", AdamW},
  });
}

}  // namespace shiftmix::napi
