// Fused bit-packed LUT networks on the CPU: the kernels, free of XLA.
//
// Layout (catlearn.backends.bits): a layer's values are uint32 words (n, W),
// row i = bit i of every example, example e at bit e % 32 of word e / 32.
// A tile is R consecutive words of every row; the kernels run a tile through
// every layer while its rows stay in cache (L2), then move to the next tile.
//
// The plan (built per call from the traced tables and the static wiring)
// orders each layer's gates by their 2-input function K (the 4-bit truth table
// t00 | t01 << 1 | t10 << 2 | t11 << 3), so that a layer is 16 loops whose body
// is one fixed word operation (the table algebra folds at compile time: z =
// a & b, ~a | b, ...) and no per-gate coefficients are loaded. Tile buffers
// hold a layer's rows in that evaluation order; the next layer's wiring is
// renumbered to match.

#ifndef CATLEARN_LUTNET_H_
#define CATLEARN_LUTNET_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace lutnet {

using u32 = uint32_t;
using u64 = uint64_t;
// SIMD chunks (GCC/Clang vector extensions: AVX-512 registers where the CPU has
// them); may_alias, as they are read from and written to u32 arrays.
typedef u32 V16 __attribute__((vector_size(16), may_alias));
typedef u32 V32 __attribute__((vector_size(32), may_alias));
typedef u32 V64 __attribute__((vector_size(64), may_alias));

// A tile row of R words (R = 4, 8 or a multiple of 16) is N chunks of type V.
template <int R>
struct Row {
  using V = V64;
  static constexpr int N = R / 16;
};
template <>
struct Row<8> {
  using V = V32;
  static constexpr int N = 1;
};
template <>
struct Row<4> {
  using V = V16;
  static constexpr int N = 1;
};

// -- the 16 gates, and their reverse derivatives ------------------------------
// Truth-table masks of function K; the ANF c0 ^ a (c1 ^ b c3) ^ b c2 folds to
// one or two word operations once K is a constant.
template <int K>
struct Gate {
  static constexpr u32 t00 = (K & 1) ? ~0u : 0u, t01 = (K & 2) ? ~0u : 0u,
                       t10 = (K & 4) ? ~0u : 0u, t11 = (K & 8) ? ~0u : 0u;
  static constexpr u32 c0 = t00, c1 = t00 ^ t10, c2 = t00 ^ t01,
                       c3 = t00 ^ t01 ^ t10 ^ t11;
  static constexpr u32 ua = t00 ^ t10, va = t01 ^ t11;  // R_a on ~b, on b
  static constexpr u32 ub = t00 ^ t01, vb = t10 ^ t11;  // R_b on ~a, on a
  static constexpr bool reads_a = ua | va, reads_b = ub | vb;

  template <class V>
  static inline V z(V a, V b) {
    return c0 ^ (a & (c1 ^ (b & c3))) ^ (b & c2);
  }
  // R_a = dz & ((t00 ^ t10) & ~b | (t01 ^ t11) & b), R_b likewise.
  template <class V>
  static inline V ra(V b, V d) {
    return d & ((ua & ~b) | (va & b));
  }
  template <class V>
  static inline V rb(V a, V d) {
    return d & ((ub & ~a) | (vb & a));
  }
};

// -- popcounts, reductions ---------------------------------------------------------
// A chunk of B bytes seen as 64-bit lanes.
template <size_t B>
struct Lanes {
  typedef u64 L __attribute__((vector_size(B), may_alias));
};

template <class V>
static inline typename Lanes<sizeof(V)>::L popcount_lanes(V v) {  // ones per lane
  using L = typename Lanes<sizeof(V)>::L;
#if defined(__AVX512VPOPCNTDQ__) && defined(__AVX512VL__)
  if constexpr (sizeof(V) == 64) return (L)_mm512_popcnt_epi64((__m512i)v);
  if constexpr (sizeof(V) == 32) return (L)_mm256_popcnt_epi64((__m256i)v);
  if constexpr (sizeof(V) == 16) return (L)_mm_popcnt_epi64((__m128i)v);
#endif
  L x = (L)v;
  for (unsigned i = 0; i < sizeof(V) / 8; ++i) x[i] = __builtin_popcountll(x[i]);
  return x;
}

template <class L>
static inline u64 hsum64(L x) {
#if defined(__AVX512F__)
  if constexpr (sizeof(L) == 64) return _mm512_reduce_add_epi64((__m512i)x);
#endif
  u64 s = 0;
  for (unsigned i = 0; i < sizeof(L) / 8; ++i) s += x[i];
  return s;
}

template <class V>
static inline bool all_zero(V v) {
#if defined(__AVX512F__)
  if constexpr (sizeof(V) == 64)
    return _mm512_test_epi64_mask((__m512i)v, (__m512i)v) == 0;
#endif
  typename Lanes<sizeof(V)>::L x = (typename Lanes<sizeof(V)>::L)v;
  u64 s = 0;
  for (unsigned i = 0; i < sizeof(V) / 8; ++i) s |= x[i];
  return s == 0;
}

// -- the plan ----------------------------------------------------------------
// n[0] = inputs, n[l] = gates of layer l (1..L). Layer l's gates, in evaluation
// order, occupy [off[l - 1], off[l]) of a, b, orig; bucket[17 (l - 1) + K] is
// where function K starts (relative to off[l - 1]). a, b index rows of the
// previous layer's tile buffer (evaluation order; the inputs in their own).
// pos maps an original gate index (concatenated over layers) to its row.
struct Plan {
  std::vector<int64_t> n, off;
  std::vector<int32_t> a, b, orig, pos, bucket;
  int L() const { return (int)n.size() - 1; }
  int64_t max_width() const { return *std::max_element(n.begin(), n.end()); }
};

// Build the plan from tables (G, 4) (masks: bit 0 of each is read) and wiring
// (2, G) = (first inputs, second inputs); returns "" or what is wrong.
std::string make_plan(const int64_t* widths, int n_widths, const u32* tables,
                      const int32_t* wiring, Plan* plan);

// -- aligned scratch ---------------------------------------------------------------
struct Free {
  void operator()(void* p) const { std::free(p); }
};
using Scratch = std::unique_ptr<u32[], Free>;
inline Scratch scratch(size_t words) {
  size_t bytes = ((words * sizeof(u32) + 63) / 64) * 64;
  return Scratch(static_cast<u32*>(std::aligned_alloc(64, bytes ? bytes : 64)));
}

// -- one layer on one tile -------------------------------------------------------
template <int K, int R>
static inline void layer_bucket(const u32* __restrict in, u32* __restrict out,
                                const int32_t* ia, const int32_t* ib, int64_t lo,
                                int64_t hi) {
  using V = typename Row<R>::V;
  constexpr int N = Row<R>::N;
  for (int64_t g = lo; g < hi; ++g) {
    const V* a = reinterpret_cast<const V*>(in + (size_t)ia[g] * R);
    const V* b = reinterpret_cast<const V*>(in + (size_t)ib[g] * R);
    V* o = reinterpret_cast<V*>(out + (size_t)g * R);
#pragma GCC unroll 8
    for (int q = 0; q < N; ++q) o[q] = Gate<K>::z(a[q], b[q]);
  }
}

template <int R, int K = 0>
static inline void layer_forward(const Plan& p, int l, const u32* in, u32* out) {
  if constexpr (K < 16) {
    const int64_t o = p.off[l - 1];
    const int32_t* bk = &p.bucket[17 * (l - 1)];
    layer_bucket<K, R>(in, out, p.a.data() + o, p.b.data() + o, bk[K], bk[K + 1]);
    layer_forward<R, K + 1>(p, l, in, out);
  }
}

// Reverse of one function's gates on a tile: scatter-XOR R_a, R_b into the
// previous layer's cotangent rows (dz rows are ds words apart), and count the
// table votes as the ones in d, d a, d b, d a b: four 16-bit fields added to
// acc[g] (the caller empties them before they can overflow).
template <int K, int R>
static inline void reverse_bucket(const u32* __restrict act, const u32* __restrict dz,
                                  int64_t ds, u32* dprev, const int32_t* ia,
                                  const int32_t* ib, u64* __restrict acc, int64_t lo,
                                  int64_t hi) {
  using V = typename Row<R>::V;
  using G = Gate<K>;
  constexpr int N = Row<R>::N;
  for (int64_t g = lo; g < hi; ++g) {
    const V* d = reinterpret_cast<const V*>(dz + (size_t)g * ds);
    V any = d[0];
    for (int q = 1; q < N; ++q) any |= d[q];
    if (all_zero(any)) continue;  // R(x, 0) = 0: no votes, nothing flows back
    const V* a = reinterpret_cast<const V*>(act + (size_t)ia[g] * R);
    const V* b = reinterpret_cast<const V*>(act + (size_t)ib[g] * R);
    V* da = reinterpret_cast<V*>(dprev + (size_t)ia[g] * R);
    V* db = reinterpret_cast<V*>(dprev + (size_t)ib[g] * R);
    typename Lanes<sizeof(V)>::L packed = {};
#pragma GCC unroll 8
    for (int q = 0; q < N; ++q) {
      const V av = a[q], bv = b[q], dv = d[q], dA = dv & av;
      packed += popcount_lanes(dv) + (popcount_lanes(dA) << 16) +
                (popcount_lanes(dv & bv) << 32) + (popcount_lanes(dA & bv) << 48);
    }
    // Sequential read-modify-writes: ia[g] == ib[g] (one input wire) is fine.
    if constexpr (G::reads_a)
      for (int q = 0; q < N; ++q) da[q] ^= G::ra(b[q], d[q]);
    if constexpr (G::reads_b)
      for (int q = 0; q < N; ++q) db[q] ^= G::rb(a[q], d[q]);
    acc[g] += hsum64(packed);
  }
}

template <int R, int K = 0>
static inline void layer_reverse(const Plan& p, int l, const u32* act, const u32* dz,
                                 int64_t ds, u32* dprev, u64* acc) {
  if constexpr (K < 16) {
    const int64_t o = p.off[l - 1];
    const int32_t* bk = &p.bucket[17 * (l - 1)];
    reverse_bucket<K, R>(act, dz, ds, dprev, p.a.data() + o, p.b.data() + o, acc + o,
                         bk[K], bk[K + 1]);
    layer_reverse<R, K + 1>(p, l, act, dz, ds, dprev, acc);
  }
}

}  // namespace lutnet

#endif  // CATLEARN_LUTNET_H_
