// XLA FFI handler for the reverse of one relaxed LUT layer, features-first, on
// the CPU. Built and called by catlearn/backends/lutnet_relaxed_cpu.py.
//
// catlearn_relaxed_reverse(x f32 (n_in, B), dz f32 (n_out, B),
//     c f32 (n_out, 4), wiring s32 (2, n_out); threads)
//   -> dx f32 (n_in, B), sums f32 (n_out, 4)
//
// Gate g reads rows a = x[ia[g]], b = x[ib[g]] and computes
// y = c0 + c1 a + c2 b + c3 a b (c: its ANF coefficients). Its reverse:
//   dx[ia[g]] += dz[g] (c1 + c3 b),   dx[ib[g]] += dz[g] (c2 + c3 a),
//   sums[g] = sum over the batch of dz[g] (1, a, b, a b)
// (the table's cotangent is a linear map of the sums, taken in JAX). XLA
// writes this as gathers over a fan-in table, several passes over (n, B)
// arrays; here it is one pass over the gates, each reading three rows and
// adding into two, the rows contiguous along the batch. The batch columns are
// split between `threads` std::threads (the caller's included): no two write
// the same element, and each keeps its own sums, added up at the end.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

void reverse_columns(const float* x, const float* dz, const float* c, const int32_t* ia,
                     const int32_t* ib, int64_t n_in, int64_t n_out, int64_t B,
                     int64_t lo, int64_t hi, float* dx, float* sums) {
  for (int64_t i = 0; i < n_in; ++i)
    std::memset(dx + i * B + lo, 0, sizeof(float) * (hi - lo));
  for (int64_t g = 0; g < n_out; ++g) {
    const float* a = x + ia[g] * B;
    const float* b = x + ib[g] * B;
    const float* d = dz + g * B;
    float* da = dx + ia[g] * B;
    float* db = dx + ib[g] * B;
    const float c1 = c[4 * g + 1], c2 = c[4 * g + 2], c3 = c[4 * g + 3];
    float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (int64_t j = lo; j < hi; ++j) {
      const float dj = d[j], aj = a[j], bj = b[j], dja = dj * aj;
      s0 += dj;
      s1 += dja;
      s2 += dj * bj;
      s3 += dja * bj;
      da[j] += dj * (c1 + c3 * bj);
      db[j] += dj * (c2 + c3 * aj);
    }
    sums[4 * g] += s0;
    sums[4 * g + 1] += s1;
    sums[4 * g + 2] += s2;
    sums[4 * g + 3] += s3;
  }
}

ffi::Error ReverseImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> dz,
                       ffi::Buffer<ffi::F32> c, ffi::Buffer<ffi::S32> wiring,
                       int64_t threads, ffi::ResultBuffer<ffi::F32> dx,
                       ffi::ResultBuffer<ffi::F32> sums) {
  auto xd = x.dimensions(), zd = dz.dimensions(), cd = c.dimensions();
  auto wd = wiring.dimensions();
  if (xd.size() != 2 || zd.size() != 2 || cd.size() != 2 || wd.size() != 2)
    return ffi::Error::InvalidArgument("relaxed_reverse: arrays must be 2-D");
  const int64_t n_in = xd[0], B = xd[1], n_out = zd[0];
  if (zd[1] != B || cd[0] != n_out || cd[1] != 4 || wd[0] != 2 || wd[1] != n_out)
    return ffi::Error::InvalidArgument(
        "relaxed_reverse: shapes x (n_in, B), dz (n_out, B), c (n_out, 4), wiring "
        "(2, n_out) do not match");
  const int32_t* ia = wiring.typed_data();
  const int32_t* ib = ia + n_out;
  for (int64_t g = 0; g < n_out; ++g)
    if (ia[g] < 0 || ia[g] >= n_in || ib[g] < 0 || ib[g] >= n_in)
      return ffi::Error::InvalidArgument("relaxed_reverse: wiring out of range at gate " +
                                         std::to_string(g));
  threads = std::max<int64_t>(1, std::min<int64_t>(threads, (B + 7) / 8));
  std::vector<std::vector<float>> part(threads, std::vector<float>(4 * n_out, 0.f));
  const int64_t per = threads ? (B + threads - 1) / threads : B;
  auto work = [&](int64_t t) {
    const int64_t lo = std::min(B, t * per), hi = std::min(B, lo + per);
    if (lo < hi)
      reverse_columns(x.typed_data(), dz.typed_data(), c.typed_data(), ia, ib, n_in,
                      n_out, B, lo, hi, dx->typed_data(), part[t].data());
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  float* s = sums->typed_data();
  for (int64_t k = 0; k < 4 * n_out; ++k) {
    float total = 0.f;
    for (int64_t t = 0; t < threads; ++t) total += part[t][k];
    s[k] = total;
  }
  return ffi::Error::Success();
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(CatlearnRelaxedReverse, ReverseImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()  // x
                                  .Arg<ffi::Buffer<ffi::F32>>()  // dz
                                  .Arg<ffi::Buffer<ffi::F32>>()  // c
                                  .Arg<ffi::Buffer<ffi::S32>>()  // wiring
                                  .Attr<int64_t>("threads")
                                  .Ret<ffi::Buffer<ffi::F32>>()   // dx
                                  .Ret<ffi::Buffer<ffi::F32>>()); // sums
