/* Test support: names for the six functions of a mapper, shared by the
 * failing and counting mappers. */
#ifndef TINYALLOC_TESTING_MAPPER_OP_H_
#define TINYALLOC_TESTING_MAPPER_OP_H_

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ta_mapper_op {
  TA_MAPPER_RESERVE,
  TA_MAPPER_COMMIT,
  TA_MAPPER_DECOMMIT,
  TA_MAPPER_PROTECT,
  TA_MAPPER_RELEASE,
  TA_MAPPER_PURGE,
  TA_MAPPER_OP_COUNT /* not an operation: the number of them */
} ta_mapper_op_t;

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_TESTING_MAPPER_OP_H_ */
