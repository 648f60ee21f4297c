// XLA FFI handlers for fused bit-packed LUT networks on the CPU (lutnet.h holds
// the layout, the gates and the per-layer loops). Built and called by
// catlearn/backends/lutnet_cpu.py.
//
// catlearn_lutnet_forward(x u32 (n0, W), tables u32 (G, 4), wiring s32 (2, G);
//     widths = [n0, n1, ..., nL], tile_words, group_k, keep, threads)
//   -> counts f32 (group_k, 32 W) if group_k > 0; then every layer's words
//      (n_l, W) if keep; with neither, the last layer's words (nL, W).
// catlearn_lutnet_reverse(x, tables, wiring, dz u32 (nL, W); widths,
//     tile_words, threads) -> dx u32 (n0, W), votes s32 (4 G,).
//
// The tiles are shared out to `threads` std::threads (the caller's included),
// each with its own buffers and vote counts.

#include <sys/mman.h>

#include <atomic>
#include <thread>

#include "lutnet.h"
#include "xla/ffi/api/ffi.h"

namespace lutnet {

std::string make_plan(const int64_t* widths, int n_widths, const u32* tables,
                      const int32_t* wiring, Plan* plan) {
  Plan& p = *plan;
  p.n.assign(widths, widths + n_widths);
  const int L = p.L();
  p.off.assign(L + 1, 0);
  for (int l = 1; l <= L; ++l) p.off[l] = p.off[l - 1] + p.n[l];
  const int64_t G = p.off[L];
  p.a.resize(G), p.b.resize(G), p.orig.resize(G), p.pos.resize(G);
  p.bucket.assign(17 * (size_t)L, 0);
  const int32_t *IA = wiring, *IB = wiring + G;
  for (int l = 1; l <= L; ++l) {
    const int64_t o = p.off[l - 1], ng = p.n[l], nin = p.n[l - 1];
    for (int64_t g = 0; g < ng; ++g)
      for (int32_t i : {IA[o + g], IB[o + g]})
        if (i < 0 || i >= nin)
          return "wiring of layer " + std::to_string(l - 1) + ", gate " +
                 std::to_string(g) + ": input " + std::to_string(i) +
                 " is outside the layer's " + std::to_string(nin) + " inputs";
    // the tile row holding input i of this layer (the inputs: in their own order)
    auto row = [&](int32_t i) { return l == 1 ? i : p.pos[p.off[l - 2] + i]; };
    auto func = [&](int64_t g) {  // K = t00 | t01 << 1 | t10 << 2 | t11 << 3
      const u32* t = tables + 4 * (o + g);
      return (t[0] & 1) | (t[1] & 1) << 1 | (t[2] & 1) << 2 | (t[3] & 1) << 3;
    };
    // counting sort by K (stable)
    int32_t* bk = &p.bucket[17 * (size_t)(l - 1)];
    for (int64_t g = 0; g < ng; ++g) ++bk[func(g) + 1];
    for (int k = 0; k < 16; ++k) bk[k + 1] += bk[k];
    std::vector<int32_t> next(bk, bk + 16);
    for (int64_t g = 0; g < ng; ++g) {
      const int32_t q = next[func(g)]++;
      p.orig[o + q] = (int32_t)g;
      p.pos[o + g] = q;
      p.a[o + q] = row(IA[o + g]);
      p.b[o + q] = row(IB[o + g]);
    }
  }
  return "";
}

// -- moving tiles in and out ----------------------------------------------------
struct Tile {
  int64_t w0, len;  // first word, valid words (<= R)
};

// Words [w0, w0 + len) of rows [0, n) of a (n, W) array -> tile rows (row i to
// tile row to[i], or i), zero-padded to R words.
template <int R>
static void load(const u32* src, int64_t n, int64_t W, Tile t, const int32_t* to,
                 u32* dst) {
  using V = typename Row<R>::V;
  constexpr int N = Row<R>::N;
  for (int64_t i = 0; i < n; ++i) {
    u32* d = dst + (size_t)(to ? to[i] : i) * R;
    const u32* s = src + (size_t)i * W + t.w0;
    if (t.len == R) {
      for (int q = 0; q < N; ++q) {
        V v;
        std::memcpy(&v, s + q * (R / N), sizeof(V));
        reinterpret_cast<V*>(d)[q] = v;
      }
    } else {
      std::memcpy(d, s, sizeof(u32) * t.len);
      std::memset(d + t.len, 0, sizeof(u32) * (R - t.len));
    }
  }
}

// Tile rows -> words [w0, w0 + len) of rows [0, n) of a (n, W) array (row i from
// tile row from[i], or i). Whole 64-byte lines go out with non-temporal stores:
// the results are not read here again, so they skip the cache and the reading
// of their lines before the write.
template <int R>
static void store(const u32* src, int64_t n, int64_t W, Tile t, const int32_t* from,
                  u32* dst) {
  for (int64_t i = 0; i < n; ++i) {
    u32* d = dst + (size_t)i * W + t.w0;
    const u32* s = src + (size_t)(from ? from[i] : i) * R;
#if defined(__AVX512F__)
    if constexpr (R >= 16) {
      if (t.len == R && (reinterpret_cast<uintptr_t>(d) & 63) == 0) {
        for (int q = 0; q < R / 16; ++q)
          _mm512_stream_si512(reinterpret_cast<__m512i*>(d) + q,
                              reinterpret_cast<const __m512i*>(s)[q]);
        continue;
      }
    }
#endif
    std::memcpy(d, s, sizeof(u32) * t.len);
  }
}

static inline void fence() {
#if defined(__AVX512F__)
  _mm_sfence();  // the non-temporal stores land before the results are read
#endif
}

// Ask for transparent huge pages under a result about to be written for the
// first time (XLA maps fresh memory for large results): 512x fewer page faults,
// and fewer TLB misses for the strided row stores. Advice only, on the 2 MiB
// pages inside the buffer.
static void huge_pages(void* p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  const uintptr_t huge = uintptr_t(1) << 21, a = reinterpret_cast<uintptr_t>(p);
  const uintptr_t lo = (a + huge - 1) & ~(huge - 1), hi = (a + bytes) & ~(huge - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#endif
}

// -- group_sum ------------------------------------------------------------------
static int bit_length(int64_t m) {
  int nb = 1;
  while ((int64_t(1) << nb) <= m) ++nb;
  return nb;
}

// Ones per example in k groups of consecutive (original) rows of the last layer
// (row r in tile row rows_of[r]), as floats out[j, 32 w + e]. Bit-sliced counters
// (plane i = bit i of every count) fed eight rows at a time through carry-save
// adders (Harley-Seal); planes holds max(bit_length(n / k), 3) rows.
#define CSA(h, l, a, b, c)        \
  {                               \
    V u_ = (a) ^ (b);             \
    h = ((a) & (b)) | (u_ & (c)); \
    l = u_ ^ (c);                 \
  }
template <int R>
static void group_count(const u32* buf, const int32_t* rows_of, int64_t n, int64_t k,
                        int64_t W, Tile t, u32* planes, float* out) {
  using V = typename Row<R>::V;
  constexpr int N = Row<R>::N;
  const int64_t m = n / k;
  const int nb = bit_length(m);
  V* P = reinterpret_cast<V*>(planes);  // plane i, chunk q: P[i * N + q]
  for (int64_t j = 0; j < k; ++j) {
    std::memset(planes, 0, sizeof(u32) * R * std::max(nb, 3));
    const int32_t* rows = rows_of + j * m;
    auto at = [&](int64_t r) {
      return reinterpret_cast<const V*>(buf + (size_t)rows[r] * R);
    };
    int64_t r = 0;
    for (; r + 8 <= m; r += 8) {  // m >= 8: nb >= 4
      const V *v0 = at(r), *v1 = at(r + 1), *v2 = at(r + 2), *v3 = at(r + 3),
              *v4 = at(r + 4), *v5 = at(r + 5), *v6 = at(r + 6), *v7 = at(r + 7);
      for (int q = 0; q < N; ++q) {
        V p0 = P[q], p1 = P[N + q], p2 = P[2 * N + q], twoA, twoB, fourA, fourB, c;
        CSA(twoA, p0, p0, v0[q], v1[q]);
        CSA(twoB, p0, p0, v2[q], v3[q]);
        CSA(fourA, p1, p1, twoA, twoB);
        CSA(twoA, p0, p0, v4[q], v5[q]);
        CSA(twoB, p0, p0, v6[q], v7[q]);
        CSA(fourB, p1, p1, twoA, twoB);
        CSA(c, p2, p2, fourA, fourB);
        P[q] = p0, P[N + q] = p1, P[2 * N + q] = p2;
        for (int i = 3; i < nb; ++i) {  // the eights ripple up
          const V h = P[i * N + q] & c;
          P[i * N + q] ^= c;
          c = h;
        }
      }
    }
    for (; r < m; ++r)
      for (int q = 0; q < N; ++q) {
        V c = at(r)[q];
        for (int i = 0; i < nb; ++i) {
          const V h = P[i * N + q] & c;
          P[i * N + q] ^= c;
          c = h;
        }
      }
    float* o = out + (size_t)j * 32 * W + 32 * t.w0;
    for (int64_t w = 0; w < t.len; ++w) {
      int32_t cnt[32] = {};
      for (int i = 0; i < nb; ++i) {
        const u32 word = planes[(size_t)i * R + w];
        for (int e = 0; e < 32; ++e) cnt[e] |= (int32_t)((word >> e) & 1u) << i;
      }
      for (int e = 0; e < 32; ++e) o[32 * w + e] = (float)cnt[e];
    }
  }
}
#undef CSA

// -- forward --------------------------------------------------------------------
struct ForwardOut {
  u32* y = nullptr;         // (nL, W), or null
  float* counts = nullptr;  // (k, 32 W), or null
  int64_t k = 0;
  std::vector<u32*> acts;   // (n_l, W) per layer, or empty
};

// Tiles t = next++ until the batch is done: x's rows in, every layer through two
// ping-pong buffers, the results out.
template <int R>
static void forward_tiles(const Plan& p, const u32* x, int64_t W, const ForwardOut& out,
                          std::atomic<int64_t>* next) {
  const int L = p.L();
  const int64_t width = p.max_width(), nL = p.n[L];
  Scratch b0 = scratch((size_t)width * R), b1 = scratch((size_t)width * R);
  Scratch planes = scratch((size_t)std::max(bit_length(out.k ? nL / out.k : 1), 3) * R);
  const int32_t* last = p.pos.data() + p.off[L - 1];  // original row -> tile row
  for (int64_t t; (t = next->fetch_add(1)) * R < W;) {
    const Tile tile{t * R, std::min<int64_t>(R, W - t * R)};
    u32 *in = b0.get(), *o = b1.get();
    load<R>(x, p.n[0], W, tile, nullptr, in);
    for (int l = 1; l <= L; ++l) {
      layer_forward<R>(p, l, in, o);
      if (!out.acts.empty())
        store<R>(o, p.n[l], W, tile, p.pos.data() + p.off[l - 1], out.acts[l - 1]);
      std::swap(in, o);
    }
    if (out.y) store<R>(in, nL, W, tile, last, out.y);
    if (out.counts)
      group_count<R>(in, last, nL, out.k, W, tile, planes.get(), out.counts);
  }
  fence();
}

// -- reverse --------------------------------------------------------------------
// Add the 16-bit vote fields of acc (ones in d, d a, d b, d a b per gate) to the
// totals cnt[4 g + 0..3], and empty acc.
static void flush(std::vector<u64>* acc, u32* cnt) {
  for (size_t g = 0; g < acc->size(); ++g) {
    const u64 s = (*acc)[g];
    for (int f = 0; f < 4; ++f) cnt[4 * g + f] += (u32)((s >> (16 * f)) & 0xFFFF);
    (*acc)[g] = 0;
  }
}

// Tiles, as forward_tiles: recompute the forward keeping every layer's rows,
// then run the layers backwards from dz. dz comes in blocks of M tiles (>= 256
// bytes per row: scattered 64-byte reads get half the memory's bandwidth).
template <int R>
static void reverse_tiles(const Plan& p, const u32* x, const u32* dz, int64_t W,
                          u32* dx, u32* cnt, std::atomic<int64_t>* next) {
  constexpr int M = R >= 64 ? 1 : 64 / R, S = M * R;  // tiles, words per dz block
  constexpr int F = 65535 / (32 * R);  // tiles before a 16-bit vote field can overflow
  const int L = p.L();
  const int64_t nL = p.n[L], width = p.max_width();
  std::vector<size_t> act_row(L, 0);  // first tile row of layer l's inputs
  for (int l = 1; l < L; ++l) act_row[l] = act_row[l - 1] + p.n[l - 1];
  Scratch act = scratch((act_row[L - 1] + p.n[L - 1]) * R), block = scratch(nL * S);
  Scratch d0 = scratch((size_t)width * R), d1 = scratch((size_t)width * R);
  std::vector<u64> acc(p.off[L], 0);
  int since = 0;
  for (int64_t s; (s = next->fetch_add(1)) * S < W;) {
    load<S>(dz, nL, W, Tile{s * S, std::min<int64_t>(S, W - s * S)},
            p.pos.data() + p.off[L - 1], block.get());
    for (int j = 0; j < M && s * S + j * R < W; ++j) {
      const Tile tile{s * S + j * R, std::min<int64_t>(R, W - s * S - j * R)};
      load<R>(x, p.n[0], W, tile, nullptr, act.get());
      u32* rows = act.get();
      for (int l = 1; l < L; ++l)
        layer_forward<R>(p, l, rows + act_row[l - 1] * R, rows + act_row[l] * R);
      const u32* d = block.get() + j * R;
      int64_t ds = S;  // words between rows of d
      for (int l = L; l >= 1; --l) {
        u32* dp = (l % 2 ? d0 : d1).get();
        std::memset(dp, 0, sizeof(u32) * R * p.n[l - 1]);
        layer_reverse<R>(p, l, rows + act_row[l - 1] * R, d, ds, dp, acc.data());
        d = dp, ds = R;
      }
      store<R>(d, p.n[0], W, tile, nullptr, dx);
      if (++since == F) flush(&acc, cnt), since = 0;
    }
  }
  flush(&acc, cnt);
  fence();
}

// -- threads --------------------------------------------------------------------
// body(i) on threads i = 0 .. threads - 1 (0 is the caller).
template <class F>
static void parallel(int64_t threads, F body) {
  std::vector<std::thread> pool;
  for (int64_t i = 1; i < threads; ++i) pool.emplace_back(body, i);
  body(0);
  for (auto& th : pool) th.join();
}

template <int R>
static void forward_all(const Plan& p, const u32* x, int64_t W, const ForwardOut& out,
                        int64_t threads) {
  std::atomic<int64_t> next{0};
  parallel(threads, [&](int64_t) { forward_tiles<R>(p, x, W, out, &next); });
}

template <int R>
static void reverse_all(const Plan& p, const u32* x, const u32* dz, int64_t W, u32* dx,
                        std::vector<std::vector<u32>>* cnt, int64_t threads) {
  std::atomic<int64_t> next{0};
  parallel(threads, [&](int64_t i) {
    reverse_tiles<R>(p, x, dz, W, dx, (*cnt)[i].data(), &next);
  });
}

// The tile widths the kernels are built for (lutnet_cpu.TILES).
#define LUTNET_TILES(X) X(8) X(16) X(32) X(64)

}  // namespace lutnet

// -- XLA FFI ----------------------------------------------------------------------
namespace ffi = xla::ffi;
using lutnet::u32;

static ffi::Error Invalid(const std::string& what) {
  return ffi::Error::InvalidArgument("catlearn lutnet kernel: " + what);
}

static std::string dims(ffi::AnyBuffer::Dimensions d) {
  std::string s = "(";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + (d.size() == 1 ? ",)" : ")");
}

// Check the arguments both calls share, and build the plan.
static ffi::Error Prepare(ffi::Buffer<ffi::U32> x, ffi::Buffer<ffi::U32> tables,
                          ffi::Buffer<ffi::S32> wiring, ffi::Span<const int64_t> widths,
                          int64_t tile, int64_t threads, lutnet::Plan* plan) {
  if (widths.size() < 2) return Invalid("widths must list the inputs and >= 1 layer");
  for (int64_t n : widths)
    if (n < 1 || n > INT32_MAX) return Invalid("every width must be in [1, 2^31)");
  int64_t G = 0;
  for (size_t l = 1; l < widths.size(); ++l) G += widths[l];
  if (x.dimensions().size() != 2 || x.dimensions()[0] != widths[0])
    return Invalid("x has shape " + dims(x.dimensions()) + ", expected (" +
                   std::to_string(widths[0]) + ", W)");
  if (tables.element_count() != (size_t)(4 * G))
    return Invalid("tables have shape " + dims(tables.dimensions()) + ", expected (" +
                   std::to_string(G) + ", 4)");
  if (wiring.element_count() != (size_t)(2 * G))
    return Invalid("wiring has shape " + dims(wiring.dimensions()) + ", expected (2, " +
                   std::to_string(G) + ")");
  bool known = false;
#define LUTNET_IS(R) known |= tile == R;
  LUTNET_TILES(LUTNET_IS)
#undef LUTNET_IS
  if (!known) return Invalid("tile_words " + std::to_string(tile) + " is not built");
  if (threads < 1) return Invalid("threads must be >= 1");
  std::string err = lutnet::make_plan(widths.begin(), (int)widths.size(),
                                      tables.typed_data(), wiring.typed_data(), plan);
  return err.empty() ? ffi::Error::Success() : Invalid(err);
}

static ffi::Error ForwardImpl(ffi::Buffer<ffi::U32> x, ffi::Buffer<ffi::U32> tables,
                              ffi::Buffer<ffi::S32> wiring,
                              ffi::Span<const int64_t> widths, int64_t tile,
                              int64_t group_k, int64_t keep, int64_t threads,
                              ffi::RemainingRets rets) {
  lutnet::Plan plan;
  ffi::Error e = Prepare(x, tables, wiring, widths, tile, threads, &plan);
  if (!e.success()) return e;
  const int L = plan.L();
  const int64_t W = x.dimensions()[1], nL = plan.n[L];
  if (group_k < 0 || (group_k && nL % group_k))
    return Invalid("group_k " + std::to_string(group_k) + " does not divide the last "
                   "layer's " + std::to_string(nL) + " rows");
  std::vector<size_t> sizes;  // bytes of each result, in order
  if (group_k) sizes.push_back(sizeof(float) * group_k * 32 * W);
  for (int l = 1; l <= L && keep; ++l) sizes.push_back(sizeof(u32) * plan.n[l] * W);
  if (!keep && !group_k) sizes.push_back(sizeof(u32) * nL * W);
  if (rets.size() != sizes.size())
    return Invalid("expected " + std::to_string(sizes.size()) + " results, got " +
                   std::to_string(rets.size()));
  std::vector<void*> ptr;
  for (size_t r = 0; r < sizes.size(); ++r) {
    auto ret = rets.get<ffi::AnyBuffer>(r);
    if (!ret.has_value() || (*ret)->size_bytes() != sizes[r])
      return Invalid("result " + std::to_string(r) + " is not " +
                     std::to_string(sizes[r]) + " bytes");
    ptr.push_back((*ret)->untyped_data());
    lutnet::huge_pages(ptr.back(), sizes[r]);
  }
  lutnet::ForwardOut out;
  out.k = group_k;
  size_t r = 0;
  if (group_k) out.counts = static_cast<float*>(ptr[r++]);
  for (int l = 1; l <= L && keep; ++l) out.acts.push_back(static_cast<u32*>(ptr[r++]));
  if (!keep && !group_k) out.y = static_cast<u32*>(ptr[r++]);
  switch (tile) {
#define LUTNET_CASE(R)                                               \
  case R:                                                            \
    lutnet::forward_all<R>(plan, x.typed_data(), W, out, threads);   \
    break;
    LUTNET_TILES(LUTNET_CASE)
#undef LUTNET_CASE
  }
  return ffi::Error::Success();
}

static ffi::Error ReverseImpl(ffi::Buffer<ffi::U32> x, ffi::Buffer<ffi::U32> tables,
                              ffi::Buffer<ffi::S32> wiring, ffi::Buffer<ffi::U32> dz,
                              ffi::Span<const int64_t> widths, int64_t tile,
                              int64_t threads, ffi::ResultBuffer<ffi::U32> dx,
                              ffi::ResultBuffer<ffi::S32> votes) {
  lutnet::Plan plan;
  ffi::Error e = Prepare(x, tables, wiring, widths, tile, threads, &plan);
  if (!e.success()) return e;
  const int L = plan.L();
  const int64_t W = x.dimensions()[1], G = plan.off[L];
  if (dz.dimensions().size() != 2 || dz.dimensions()[0] != plan.n[L] ||
      dz.dimensions()[1] != W)
    return Invalid("dz has shape " + dims(dz.dimensions()) + ", expected (" +
                   std::to_string(plan.n[L]) + ", " + std::to_string(W) + ")");
  if (dx->element_count() != (size_t)(plan.n[0] * W) ||
      votes->element_count() != (size_t)(4 * G))
    return Invalid("dx or votes has the wrong size");
  // per thread: ones in d, d a, d b, d a b per gate (evaluation order)
  std::vector<std::vector<u32>> cnt(threads, std::vector<u32>(4 * G, 0));
  switch (tile) {
#define LUTNET_CASE(R)                                                      \
  case R:                                                                   \
    lutnet::reverse_all<R>(plan, x.typed_data(), dz.typed_data(), W,        \
                           dx->typed_data(), &cnt, threads);                \
    break;
    LUTNET_TILES(LUTNET_CASE)
#undef LUTNET_CASE
  }
  for (int64_t i = 1; i < threads; ++i)
    for (int64_t j = 0; j < 4 * G; ++j) cnt[0][j] += cnt[i][j];
  int32_t* v = votes->typed_data();
  for (int l = 1; l <= L; ++l)
    for (int64_t q = plan.off[l - 1]; q < plan.off[l]; ++q) {
      const u32* s = &cnt[0][4 * q];  // d, d a, d b, d a b
      int32_t* t = v + 4 * (plan.off[l - 1] + plan.orig[q]);
      t[0] = (int32_t)(s[0] - s[1] - s[2] + s[3]);  // ~a ~b
      t[1] = (int32_t)(s[2] - s[3]);                // ~a b
      t[2] = (int32_t)(s[1] - s[3]);                // a ~b
      t[3] = (int32_t)s[3];                         // a b
    }
  return ffi::Error::Success();
}

XLA_FFI_DEFINE_HANDLER_SYMBOL(CatlearnLutnetForward, ForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::U32>>()  // x
                                  .Arg<ffi::Buffer<ffi::U32>>()  // tables
                                  .Arg<ffi::Buffer<ffi::S32>>()  // wiring
                                  .Attr<ffi::Span<const int64_t>>("widths")
                                  .Attr<int64_t>("tile_words")
                                  .Attr<int64_t>("group_k")
                                  .Attr<int64_t>("keep")
                                  .Attr<int64_t>("threads")
                                  .RemainingRets());

XLA_FFI_DEFINE_HANDLER_SYMBOL(CatlearnLutnetReverse, ReverseImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::U32>>()  // x
                                  .Arg<ffi::Buffer<ffi::U32>>()  // tables
                                  .Arg<ffi::Buffer<ffi::S32>>()  // wiring
                                  .Arg<ffi::Buffer<ffi::U32>>()  // dz
                                  .Attr<ffi::Span<const int64_t>>("widths")
                                  .Attr<int64_t>("tile_words")
                                  .Attr<int64_t>("threads")
                                  .Ret<ffi::Buffer<ffi::U32>>()   // dx
                                  .Ret<ffi::Buffer<ffi::S32>>()); // votes
