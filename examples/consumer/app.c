/* A user's program: builds a linked list in a tinyalloc heap and checks it. */
#include <stdio.h>

#include "tinyalloc/tinyalloc.h"

struct node {
  struct node *next;
  int value;
};

int main(void) {
  ta_heap_t *heap = ta_heap_new();
  ta_layout_t layout;
  if (heap == NULL || ta_layout_make(sizeof(struct node), _Alignof(struct node), &layout) != TA_OK) {
    return 1;
  }
  struct node *head = NULL;
  for (int i = 1; i <= 1000; i++) {
    struct node *n = ta_heap_alloc(heap, layout);
    if (n == NULL) return 1;
    n->value = i;
    n->next = head;
    head = n;
  }
  long sum = 0;
  while (head != NULL) {
    struct node *next = head->next;
    sum += head->value;
    ta_heap_free(heap, head, layout);
    head = next;
  }
  ta_heap_destroy(heap);
  printf("consumer: sum of 1..1000 through tinyalloc = %ld (%s)\n", sum,
         sum == 500500 ? "ok" : "WRONG");
  return sum == 500500 ? 0 : 1;
}
