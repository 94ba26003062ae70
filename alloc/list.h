/* Intrusive doubly-linked list: the node lives inside the listed object, so
 * linking and unlinking never allocate and removal from the middle is O(1). */
#ifndef TINYALLOC_ALLOC_LIST_H_
#define TINYALLOC_ALLOC_LIST_H_

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ta_list_node {
  struct ta_list_node *prev;
  struct ta_list_node *next;
} ta_list_node_t;

typedef struct ta_list {
  ta_list_node_t *head;
  ta_list_node_t *tail;
  size_t count;
} ta_list_t;

/* The object of type `type` whose member `member` is the node at `node`. */
#define TA_CONTAINER_OF(node, type, member) \
  ((type *)(void *)((char *)(node) - offsetof(type, member)))

static inline void ta_list_init(ta_list_t *list) {
  list->head = NULL;
  list->tail = NULL;
  list->count = 0;
}

static inline bool ta_list_is_empty(const ta_list_t *list) { return list->head == NULL; }

static inline void ta_list_push_front(ta_list_t *list, ta_list_node_t *node) {
  node->prev = NULL;
  node->next = list->head;
  if (list->head != NULL) {
    list->head->prev = node;
  } else {
    list->tail = node;
  }
  list->head = node;
  list->count++;
}

static inline void ta_list_push_back(ta_list_t *list, ta_list_node_t *node) {
  node->next = NULL;
  node->prev = list->tail;
  if (list->tail != NULL) {
    list->tail->next = node;
  } else {
    list->head = node;
  }
  list->tail = node;
  list->count++;
}

/* node must be in list. */
static inline void ta_list_remove(ta_list_t *list, ta_list_node_t *node) {
  if (node->prev != NULL) {
    node->prev->next = node->next;
  } else {
    list->head = node->next;
  }
  if (node->next != NULL) {
    node->next->prev = node->prev;
  } else {
    list->tail = node->prev;
  }
  node->prev = NULL;
  node->next = NULL;
  list->count--;
}

/* Puts node (on no list) where old is, and takes old off: one move instead
 * of a remove and an insert, touching only old's neighbours. */
static inline void ta_list_replace(ta_list_t *list, ta_list_node_t *old, ta_list_node_t *node) {
  node->prev = old->prev;
  node->next = old->next;
  if (old->prev != NULL) {
    old->prev->next = node;
  } else {
    list->head = node;
  }
  if (old->next != NULL) {
    old->next->prev = node;
  } else {
    list->tail = node;
  }
  old->prev = NULL;
  old->next = NULL;
}

static inline ta_list_node_t *ta_list_pop_front(ta_list_t *list) {
  ta_list_node_t *node = list->head;
  if (node != NULL) ta_list_remove(list, node);
  return node;
}

#ifdef __cplusplus
}
#endif

#endif /* TINYALLOC_ALLOC_LIST_H_ */
