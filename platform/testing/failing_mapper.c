/* Test support: the failing mapper (tinyalloc/testing/failing_mapper.h). */
#include "tinyalloc/testing/failing_mapper.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "platform/os_error.h"

typedef enum {
  RULE_NONE,
  RULE_NTH,
  RULE_FROM,
  RULE_SCRIPT,
  RULE_DECIDER,
} rule_kind_t;

struct ta_failing_mapper {
  ta_mapper_t table; /* ctx points back to this object */
  const ta_mapper_t *base;

  /* The rule: plain fields, since it only changes while no call runs. */
  rule_kind_t rule;
  ta_mapper_op_t rule_op;
  size_t rule_n;
  const unsigned char *script;
  size_t script_len;
  ta_fail_decider_t decide;
  void *decide_arg;

  atomic_size_t all_calls;
  atomic_size_t calls[TA_MAPPER_OP_COUNT];
  atomic_size_t failures[TA_MAPPER_OP_COUNT];
};

/* Counts the call and applies the rule: true if the call must fail. Numbers
 * come from fetch_add, so each concurrent call gets its own and the rule sees
 * every number exactly once. */
static bool fm_should_fail(ta_failing_mapper_t *fm, ta_mapper_op_t op) {
  size_t call = atomic_fetch_add(&fm->all_calls, 1) + 1;
  size_t op_call = atomic_fetch_add(&fm->calls[op], 1) + 1;
  bool fail = false;
  switch (fm->rule) {
    case RULE_NONE:
      break;
    case RULE_NTH:
      fail = op == fm->rule_op && op_call == fm->rule_n;
      break;
    case RULE_FROM:
      fail = op == fm->rule_op && op_call >= fm->rule_n;
      break;
    case RULE_SCRIPT:
      fail = call <= fm->script_len && fm->script[call - 1] != 0;
      break;
    case RULE_DECIDER:
      fail = fm->decide(fm->decide_arg, op, op_call, call);
      break;
  }
  if (fail) atomic_fetch_add(&fm->failures[op], 1);
  return fail;
}

static int fm_reserve(void *ctx, size_t size, size_t align, void **out) {
  ta_failing_mapper_t *fm = ctx;
  if (fm_should_fail(fm, TA_MAPPER_RESERVE)) return ta_os_error_oom_code();
  return fm->base->reserve(fm->base->ctx, size, align, out);
}

static int fm_commit(void *ctx, void *addr, size_t size) {
  ta_failing_mapper_t *fm = ctx;
  if (fm_should_fail(fm, TA_MAPPER_COMMIT)) return ta_os_error_oom_code();
  return fm->base->commit(fm->base->ctx, addr, size);
}

static int fm_decommit(void *ctx, void *addr, size_t size) {
  ta_failing_mapper_t *fm = ctx;
  if (fm_should_fail(fm, TA_MAPPER_DECOMMIT)) return ta_os_error_oom_code();
  return fm->base->decommit(fm->base->ctx, addr, size);
}

static int fm_protect(void *ctx, void *addr, size_t size, bool read_write) {
  ta_failing_mapper_t *fm = ctx;
  if (fm_should_fail(fm, TA_MAPPER_PROTECT)) return ta_os_error_oom_code();
  return fm->base->protect(fm->base->ctx, addr, size, read_write);
}

static int fm_release(void *ctx, void *addr, size_t size) {
  ta_failing_mapper_t *fm = ctx;
  if (fm_should_fail(fm, TA_MAPPER_RELEASE)) return ta_os_error_oom_code();
  return fm->base->release(fm->base->ctx, addr, size);
}

static int fm_purge(void *ctx, void *addr, size_t size) {
  ta_failing_mapper_t *fm = ctx;
  if (fm_should_fail(fm, TA_MAPPER_PURGE)) return ta_os_error_oom_code();
  return fm->base->purge(fm->base->ctx, addr, size);
}

ta_failing_mapper_t *ta_failing_mapper_new(const ta_mapper_t *base) {
  ta_failing_mapper_t *fm = calloc(1, sizeof *fm);
  if (fm == NULL) return NULL;
  fm->table = (ta_mapper_t){
      .name = "failing",
      .reserve = fm_reserve,
      .commit = fm_commit,
      .decommit = fm_decommit,
      .protect = fm_protect,
      .release = fm_release,
      .ctx = fm,
  };
  fm->base = base != NULL ? base : ta_mapper_default();
  /* It purges where its base can, so the allocator takes the same paths. */
  fm->table.purge = fm->base->purge != NULL ? fm_purge : NULL;
  ta_failing_mapper_fail_none(fm);
  return fm;
}

void ta_failing_mapper_free(ta_failing_mapper_t *fm) { free(fm); }

const ta_mapper_t *ta_failing_mapper_table(ta_failing_mapper_t *fm) { return &fm->table; }

/* Installs a rule (the caller fills its parameters) and restarts the counts. */
static void fm_set_rule(ta_failing_mapper_t *fm, rule_kind_t rule) {
  fm->rule = rule;
  atomic_store(&fm->all_calls, 0);
  for (int op = 0; op < TA_MAPPER_OP_COUNT; ++op) {
    atomic_store(&fm->calls[op], 0);
    atomic_store(&fm->failures[op], 0);
  }
}

void ta_failing_mapper_fail_none(ta_failing_mapper_t *fm) { fm_set_rule(fm, RULE_NONE); }

void ta_failing_mapper_fail_nth(ta_failing_mapper_t *fm, ta_mapper_op_t op, size_t n) {
  fm->rule_op = op;
  fm->rule_n = n;
  fm_set_rule(fm, RULE_NTH);
}

void ta_failing_mapper_fail_from(ta_failing_mapper_t *fm, ta_mapper_op_t op, size_t n) {
  fm->rule_op = op;
  fm->rule_n = n;
  fm_set_rule(fm, RULE_FROM);
}

void ta_failing_mapper_fail_script(ta_failing_mapper_t *fm, const unsigned char *script,
                                   size_t len) {
  fm->script = script;
  fm->script_len = script != NULL ? len : 0;
  fm_set_rule(fm, RULE_SCRIPT);
}

void ta_failing_mapper_fail_with(ta_failing_mapper_t *fm, ta_fail_decider_t decide, void *arg) {
  fm->decide = decide;
  fm->decide_arg = arg;
  fm_set_rule(fm, decide != NULL ? RULE_DECIDER : RULE_NONE);
}

size_t ta_failing_mapper_calls(ta_failing_mapper_t *fm, ta_mapper_op_t op) {
  return atomic_load(&fm->calls[op]);
}

size_t ta_failing_mapper_failures(ta_failing_mapper_t *fm, ta_mapper_op_t op) {
  return atomic_load(&fm->failures[op]);
}
