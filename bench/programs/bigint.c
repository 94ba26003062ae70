/*
 * bigint.c - arbitrary-precision integer arithmetic with many tiny,
 * short-lived blocks (in the spirit of the cfrac benchmark: every
 * arithmetic operation returns a freshly malloc'd number and temporaries are
 * freed right away).
 *
 * A number is one malloc'd block: a limb count and 32-bit limbs. The work,
 * repeated SCALE * 100 rounds, is:
 *   - Pollard's rho (Floyd cycle finding, a gcd every step) on N = p*q*r
 *     with primes p ~ 2^23 and q, r ~ 2^30 drawn from the seeded PRNG; the
 *     factor found is checked to divide N and, with native 64-bit
 *     arithmetic, to be a product of a subset of {p, q, r};
 *   - 150! by multiplication, then divided back down to 1 (every remainder
 *     must be zero);
 *   - F(1000) by 1000 additions and again by fast doubling (both must agree);
 *   - 20 random division identities q*b + r == a, r < b.
 * Each copy also starts with a self-test against native 64-bit arithmetic.
 *
 * THREADS: runs THREADS independent copies of the whole computation, one per
 * thread, each doing the full work (so THREADS multiplies the total work);
 * all copies use the same inputs and must produce the same checksum, which
 * therefore does not depend on THREADS. Time is measured externally (the
 * program also reports it).
 *
 * Usage: bigint [--seed=N] THREADS SCALE
 * Prints: result: ok checksum=<hash of all results> ops=<numbers allocated>
 *         seconds=<s>
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/programs/workload.h"

#define DEFAULT_ROUNDS 100.0
enum { FACTORIAL_N = 150, FIBONACCI_N = 1000, IDENTITIES = 20 };

/* ---- numbers ---- */
typedef struct bn {
  uint32_t n;   /* limbs in use; d[n-1] != 0; zero has n == 0 */
  uint32_t d[]; /* least significant first */
} bn;

static _Thread_local uint64_t allocations;

static bn *bn_alloc(uint32_t limbs) {
  bn *r = malloc(sizeof(bn) + (size_t)limbs * sizeof(uint32_t));
  if (r == NULL) die("malloc failed");
  allocations++;
  r->n = limbs;
  return r;
}
static void bn_free(bn *a) { free(a); }
static bn *bn_trim(bn *a) {
  while (a->n > 0 && a->d[a->n - 1] == 0) a->n--;
  return a;
}
static bn *bn_from_u64(uint64_t v) {
  bn *r = bn_alloc(2);
  r->d[0] = (uint32_t)v;
  r->d[1] = (uint32_t)(v >> 32);
  return bn_trim(r);
}
static int bn_fits_u64(const bn *a) { return a->n <= 2; }
static uint64_t bn_to_u64(const bn *a) {
  uint64_t v = 0;
  if (a->n > 0) v = a->d[0];
  if (a->n > 1) v |= (uint64_t)a->d[1] << 32;
  return v;
}
static int bn_is_zero(const bn *a) { return a->n == 0; }
static int bn_is_one(const bn *a) { return a->n == 1 && a->d[0] == 1; }
static int bn_cmp(const bn *a, const bn *b) {
  if (a->n != b->n) return a->n < b->n ? -1 : 1;
  for (uint32_t i = a->n; i-- > 0;)
    if (a->d[i] != b->d[i]) return a->d[i] < b->d[i] ? -1 : 1;
  return 0;
}
static bn *bn_copy(const bn *a) {
  bn *r = bn_alloc(a->n);
  memcpy(r->d, a->d, (size_t)a->n * sizeof(uint32_t));
  return r;
}
static bn *bn_add(const bn *a, const bn *b) {
  if (a->n < b->n) {
    const bn *t = a;
    a = b;
    b = t;
  }
  bn *r = bn_alloc(a->n + 1);
  uint64_t c = 0;
  for (uint32_t i = 0; i < a->n; i++) {
    c += (uint64_t)a->d[i] + (i < b->n ? b->d[i] : 0);
    r->d[i] = (uint32_t)c;
    c >>= 32;
  }
  r->d[a->n] = (uint32_t)c;
  return bn_trim(r);
}
/* a - b, requires a >= b */
static bn *bn_sub(const bn *a, const bn *b) {
  if (bn_cmp(a, b) < 0) die("internal error: negative difference");
  bn *r = bn_alloc(a->n);
  int64_t c = 0;
  for (uint32_t i = 0; i < a->n; i++) {
    c += (int64_t)a->d[i] - (i < b->n ? (int64_t)b->d[i] : 0);
    r->d[i] = (uint32_t)c;
    c = c < 0 ? -1 : 0;
  }
  return bn_trim(r);
}
static bn *bn_mul(const bn *a, const bn *b) {
  if (a->n == 0 || b->n == 0) return bn_alloc(0);
  bn *r = bn_alloc(a->n + b->n);
  memset(r->d, 0, (size_t)r->n * sizeof(uint32_t));
  for (uint32_t i = 0; i < a->n; i++) {
    uint64_t c = 0;
    for (uint32_t j = 0; j < b->n; j++) {
      c += (uint64_t)a->d[i] * b->d[j] + r->d[i + j];
      r->d[i + j] = (uint32_t)c;
      c >>= 32;
    }
    r->d[i + b->n] = (uint32_t)c;
  }
  return bn_trim(r);
}

/* Long division (Knuth, TAOCP vol. 2, 4.3.1, algorithm D). Either output may
 * be NULL. The normalised copies of the operands are temporaries. */
static void bn_divmod(const bn *a, const bn *b, bn **qout, bn **rout) {
  bn *q, *r;
  if (b->n == 0) die("internal error: division by zero");
  if (bn_cmp(a, b) < 0) {
    q = bn_alloc(0);
    r = bn_copy(a);
  } else if (b->n == 1) {
    uint64_t rem = 0, v = b->d[0];
    q = bn_alloc(a->n);
    for (uint32_t i = a->n; i-- > 0;) {
      uint64_t cur = (rem << 32) | a->d[i];
      q->d[i] = (uint32_t)(cur / v);
      rem = cur % v;
    }
    bn_trim(q);
    r = bn_from_u64(rem);
  } else {
    const uint32_t m = a->n, n = b->n;
    const uint64_t base = 1ull << 32;
    unsigned s = (unsigned)__builtin_clz(b->d[n - 1]);
    uint32_t *vn = malloc((size_t)n * sizeof(uint32_t));
    uint32_t *un = malloc((size_t)(m + 1) * sizeof(uint32_t));
    if (vn == NULL || un == NULL) die("malloc failed");
    allocations += 2;
    /* (uint64_t)x >> (32 - s) is 0 when s == 0, as it must be. */
    for (uint32_t i = n - 1; i > 0; i--)
      vn[i] = (b->d[i] << s) | (uint32_t)((uint64_t)b->d[i - 1] >> (32 - s));
    vn[0] = b->d[0] << s;
    un[m] = (uint32_t)((uint64_t)a->d[m - 1] >> (32 - s));
    for (uint32_t i = m - 1; i > 0; i--)
      un[i] = (a->d[i] << s) | (uint32_t)((uint64_t)a->d[i - 1] >> (32 - s));
    un[0] = a->d[0] << s;
    q = bn_alloc(m - n + 1);
    for (uint32_t j = m - n + 1; j-- > 0;) {
      uint64_t num = ((uint64_t)un[j + n] << 32) | un[j + n - 1];
      uint64_t qhat = num / vn[n - 1];
      uint64_t rhat = num - qhat * vn[n - 1];
      while (qhat >= base || qhat * vn[n - 2] > ((rhat << 32) | un[j + n - 2])) {
        qhat--;
        rhat += vn[n - 1];
        if (rhat >= base) break;
      }
      /* un[j .. j+n] -= qhat * vn */
      uint64_t mulc = 0;
      int64_t borrow = 0;
      for (uint32_t i = 0; i < n; i++) {
        uint64_t p = qhat * vn[i] + mulc;
        mulc = p >> 32;
        int64_t t = (int64_t)un[i + j] - (int64_t)(uint32_t)p + borrow;
        un[i + j] = (uint32_t)t;
        borrow = t < 0 ? -1 : 0;
      }
      int64_t t = (int64_t)un[j + n] - (int64_t)mulc + borrow;
      un[j + n] = (uint32_t)t;
      if (t < 0) { /* qhat was one too large: add vn back */
        qhat--;
        uint64_t c = 0;
        for (uint32_t i = 0; i < n; i++) {
          c += (uint64_t)un[i + j] + vn[i];
          un[i + j] = (uint32_t)c;
          c >>= 32;
        }
        un[j + n] += (uint32_t)c;
      }
      q->d[j] = (uint32_t)qhat;
    }
    bn_trim(q);
    r = bn_alloc(n);
    for (uint32_t i = 0; i + 1 < n; i++)
      r->d[i] = (un[i] >> s) | (uint32_t)((uint64_t)un[i + 1] << (32 - s));
    r->d[n - 1] = un[n - 1] >> s;
    bn_trim(r);
    free(vn);
    free(un);
  }
  if (qout) *qout = q;
  else bn_free(q);
  if (rout) *rout = r;
  else bn_free(r);
}
static bn *bn_mod(const bn *a, const bn *b) {
  bn *r;
  bn_divmod(a, b, NULL, &r);
  return r;
}
static bn *bn_gcd(const bn *a, const bn *b) {
  bn *x = bn_copy(a), *y = bn_copy(b);
  while (!bn_is_zero(y)) {
    bn *t = bn_mod(x, y);
    bn_free(x);
    x = y;
    y = t;
  }
  bn_free(y);
  return x;
}
static uint64_t hash_bn(uint64_t h, const bn *a) {
  for (uint32_t i = 0; i < a->n; i++) {
    h ^= a->d[i];
    h *= 0x100000001B3ull;
  }
  h ^= a->n;
  h *= 0x100000001B3ull;
  return h;
}
static uint64_t hash_u64(uint64_t h, uint64_t v) {
  h ^= v;
  h *= 0x100000001B3ull;
  return h;
}
static bn *bn_random(uint64_t *rng, uint32_t limbs) {
  bn *r = bn_alloc(limbs);
  for (uint32_t i = 0; i < limbs; i++) r->d[i] = (uint32_t)rng_next(rng);
  return bn_trim(r);
}

static void wrong(const char *what) {
  fprintf(stderr, "bigint: wrong result: %s\n", what);
  exit(1);
}

/* ---- native helpers for the checks (n < 2^32, so products fit) ---- */
static uint64_t powmod32(uint64_t b, uint64_t e, uint64_t m) {
  uint64_t r = 1;
  b %= m;
  while (e) {
    if (e & 1) r = r * b % m;
    b = b * b % m;
    e >>= 1;
  }
  return r;
}
static int is_prime32(uint64_t n) { /* Miller-Rabin, bases 2, 7, 61: exact below 2^32 */
  if (n < 2) return 0;
  static const uint64_t small[] = {2, 3, 5, 7, 11, 13, 61};
  for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
    if (n % small[i] == 0) return n == small[i];
  uint64_t d = n - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    s++;
  }
  static const uint64_t bases[] = {2, 7, 61};
  for (size_t i = 0; i < 3; i++) {
    uint64_t x = powmod32(bases[i], d, n);
    if (x == 1 || x == n - 1) continue;
    int comp = 1;
    for (int k = 1; k < s && comp; k++) {
      x = x * x % n;
      if (x == n - 1) comp = 0;
    }
    if (comp) return 0;
  }
  return 1;
}
static uint64_t random_prime(uint64_t *rng, unsigned bits) {
  uint64_t v = (1ull << (bits - 1)) | (rng_next(rng) & ((1ull << (bits - 1)) - 1)) | 1;
  while (!is_prime32(v)) v += 2;
  return v;
}

/* ---- the work ---- */
static void self_test(uint64_t *rng) {
  for (int i = 0; i < 200; i++) {
    uint64_t x = rng_next(rng), y = rng_next(rng) >> rng_below(rng, 64);
    if (y == 0) y = 1;
    uint64_t x32 = x & 0xffffffffu, y32 = y & 0xffffffffu;
    bn *a = bn_from_u64(x), *b = bn_from_u64(y), *a32 = bn_from_u64(x32), *b32 = bn_from_u64(y32);
    bn *p = bn_mul(a32, b32), *q, *r;
    bn_divmod(a, b, &q, &r);
    if (bn_to_u64(p) != x32 * y32 || bn_to_u64(q) != x / y || bn_to_u64(r) != x % y)
      wrong("self-test against 64-bit arithmetic");
    if (x32 + y32 < (1ull << 32)) {
      bn *s = bn_add(a32, b32);
      if (bn_to_u64(s) != x32 + y32) wrong("self-test addition");
      bn_free(s);
    }
    bn_free(a), bn_free(b), bn_free(a32), bn_free(b32), bn_free(p), bn_free(q), bn_free(r);
  }
}

static uint64_t division_identities(uint64_t *rng, uint64_t h) {
  for (int i = 0; i < IDENTITIES; i++) {
    bn *a = bn_random(rng, 1 + rng_below(rng, 12));
    bn *b = bn_random(rng, 1 + rng_below(rng, 6));
    if (bn_is_zero(b)) {
      bn_free(b);
      b = bn_from_u64(7);
    }
    bn *q, *r;
    bn_divmod(a, b, &q, &r);
    bn *qb = bn_mul(q, b);
    bn *back = bn_add(qb, r);
    if (bn_cmp(back, a) != 0 || bn_cmp(r, b) >= 0) wrong("q*b + r != a");
    h = hash_bn(hash_bn(h, q), r);
    bn_free(a), bn_free(b), bn_free(q), bn_free(r), bn_free(qb), bn_free(back);
  }
  return h;
}

static uint64_t factorial_up_down(uint64_t h) {
  bn *f = bn_from_u64(1);
  for (uint64_t i = 2; i <= FACTORIAL_N; i++) {
    bn *k = bn_from_u64(i);
    bn *g = bn_mul(f, k);
    bn_free(k);
    bn_free(f);
    f = g;
  }
  h = hash_bn(h, f);
  for (uint64_t i = FACTORIAL_N; i >= 2; i--) {
    bn *k = bn_from_u64(i), *q, *r;
    bn_divmod(f, k, &q, &r);
    if (!bn_is_zero(r)) wrong("factorial not divisible");
    bn_free(k), bn_free(r), bn_free(f);
    f = q;
  }
  if (!bn_is_one(f)) wrong("factorial divided back is not 1");
  bn_free(f);
  return h;
}

static uint64_t fibonacci_two_ways(uint64_t h) {
  bn *a = bn_from_u64(0), *b = bn_from_u64(1);
  for (int i = 0; i < FIBONACCI_N; i++) {
    bn *c = bn_add(a, b);
    bn_free(a);
    a = b;
    b = c;
  }
  bn_free(b);
  /* fast doubling: (F(k), F(k+1)) -> F(2k) = F(k)(2F(k+1) - F(k)),
   * F(2k+1) = F(k)^2 + F(k+1)^2 */
  bn *x = bn_from_u64(0), *y = bn_from_u64(1);
  for (int bit = 30; bit >= 0; bit--) {
    bn *y2 = bn_add(y, y), *t = bn_sub(y2, x), *c = bn_mul(x, t);
    bn *xx = bn_mul(x, x), *yy = bn_mul(y, y), *d = bn_add(xx, yy);
    bn_free(y2), bn_free(t), bn_free(xx), bn_free(yy), bn_free(x), bn_free(y);
    if ((FIBONACCI_N >> bit) & 1) {
      x = d;
      y = bn_add(c, d);
      bn_free(c);
    } else {
      x = c;
      y = d;
    }
  }
  if (bn_cmp(a, x) != 0) wrong("Fibonacci by addition and by doubling differ");
  h = hash_bn(h, a);
  bn_free(a), bn_free(x), bn_free(y);
  return h;
}

/* x -> (x*x + c) mod n */
static bn *rho_step(const bn *x, const bn *c, const bn *n) {
  bn *sq = bn_mul(x, x), *s = bn_add(sq, c), *r = bn_mod(s, n);
  bn_free(sq), bn_free(s);
  return r;
}

static uint64_t pollard_rho(uint64_t *rng, uint64_t h) {
  uint64_t p = random_prime(rng, 23), q = random_prime(rng, 30), r = random_prime(rng, 30);
  bn *bp = bn_from_u64(p), *bq = bn_from_u64(q), *br = bn_from_u64(r);
  bn *pq = bn_mul(bp, bq), *n = bn_mul(pq, br);
  bn_free(bp), bn_free(bq), bn_free(br), bn_free(pq);
  bn *d = NULL;
  uint64_t steps = 0;
  for (uint64_t c0 = 1; d == NULL; c0++) {
    bn *c = bn_from_u64(c0), *x = bn_from_u64(2), *y = bn_from_u64(2);
    for (;;) {
      bn *x1 = rho_step(x, c, n), *y1 = rho_step(y, c, n), *y2 = rho_step(y1, c, n);
      bn_free(x), bn_free(y), bn_free(y1);
      x = x1;
      y = y2;
      steps++;
      bn *diff = bn_cmp(x, y) >= 0 ? bn_sub(x, y) : bn_sub(y, x);
      bn *g = bn_gcd(diff, n);
      bn_free(diff);
      if (bn_is_one(g)) {
        bn_free(g);
        continue;
      }
      if (bn_cmp(g, n) == 0) bn_free(g); /* cycle without a factor: next c */
      else d = g;
      break;
    }
    bn_free(c), bn_free(x), bn_free(y);
  }
  /* d divides n, checked in big arithmetic ... */
  bn *quot, *rem;
  bn_divmod(n, d, &quot, &rem);
  bn *back = bn_mul(quot, d);
  if (!bn_is_zero(rem) || bn_cmp(back, n) != 0) wrong("rho factor does not divide N");
  /* ... and natively: d is the product of a proper subset of {p, q, r} */
  uint64_t dv = bn_to_u64(d);
  if (!bn_fits_u64(d) || !(dv == p || dv == q || dv == r || dv == p * q || dv == p * r || dv == q * r))
    wrong("rho factor is not a product of the primes");
  h = hash_u64(hash_bn(h, d), steps);
  bn_free(quot), bn_free(rem), bn_free(back), bn_free(d), bn_free(n);
  return h;
}

struct copy {
  pthread_t th;
  uint64_t seed, rounds;
  uint64_t checksum, allocations;
};

static void *copy_run(void *arg) {
  struct copy *c = arg;
  uint64_t rng = c->seed;
  uint64_t h = 0xCBF29CE484222325ull;
  self_test(&rng);
  for (uint64_t i = 0; i < c->rounds; i++) {
    h = pollard_rho(&rng, h);
    h = factorial_up_down(h);
    h = fibonacci_two_ways(h);
    h = division_identities(&rng, h);
  }
  c->checksum = h;
  c->allocations = allocations;
  return NULL;
}

/* ---- arguments ---- */
static const char usage_text[] =
    "usage: bigint [--seed=N] THREADS SCALE\n"
    "  THREADS  independent copies run in parallel threads, >= 1 (each does the full work)\n"
    "  SCALE    work multiplier, > 0 (1 = 100 rounds)\n"
    "prints: result: ok checksum=N ops=N seconds=S\n";

int main(int argc, char **argv) {
  workload_args_t args;
  workload_parse(argc, argv, "bigint", usage_text, 0, &args);
  uint64_t seed = args.seed;
  int threads = args.threads;
  double scale = args.scale;

  uint64_t rounds = (uint64_t)(DEFAULT_ROUNDS * scale + 0.5);
  if (rounds == 0) rounds = 1;
  struct copy *c = calloc((size_t)threads, sizeof *c);
  if (c == NULL) die("calloc failed");
  double t0 = now_sec();
  for (int t = 0; t < threads; t++) {
    c[t].seed = seed;
    c[t].rounds = rounds;
    if (pthread_create(&c[t].th, NULL, copy_run, &c[t]) != 0) die("pthread_create failed");
  }
  uint64_t ops = 0;
  for (int t = 0; t < threads; t++) {
    if (pthread_join(c[t].th, NULL) != 0) die("pthread_join failed");
    ops += c[t].allocations;
  }
  double elapsed = now_sec() - t0;
  for (int t = 1; t < threads; t++) {
    if (c[t].checksum != c[0].checksum || c[t].allocations != c[0].allocations) {
      fprintf(stderr, "bigint: copies disagree: copy 0 checksum %" PRIu64 ", copy %d checksum %" PRIu64 "\n",
              c[0].checksum, t, c[t].checksum);
      return 1;
    }
  }
  uint64_t checksum = c[0].checksum;
  free(c);
  printf("result: ok checksum=%" PRIu64 " ops=%" PRIu64 " seconds=%.3f\n", checksum, ops, elapsed);
  return 0;
}
