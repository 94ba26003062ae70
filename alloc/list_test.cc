// The intrusive list keeps order, count and links right through every edit.
#include "alloc/list.h"

#include <gtest/gtest.h>

#include <vector>

namespace {

struct Item {
  int value;
  ta_list_node_t node;
};

std::vector<int> Values(const ta_list_t &list) {
  std::vector<int> out;
  for (ta_list_node_t *n = list.head; n != nullptr; n = n->next) {
    out.push_back(TA_CONTAINER_OF(n, Item, node)->value);
  }
  return out;
}

std::vector<int> ValuesBackwards(const ta_list_t &list) {
  std::vector<int> out;
  for (ta_list_node_t *n = list.tail; n != nullptr; n = n->prev) {
    out.insert(out.begin(), TA_CONTAINER_OF(n, Item, node)->value);
  }
  return out;
}

TEST(List, PushFrontAndBackKeepOrder) {
  ta_list_t list;
  ta_list_init(&list);
  EXPECT_TRUE(ta_list_is_empty(&list));
  Item a{1, {}}, b{2, {}}, c{3, {}};
  ta_list_push_back(&list, &b.node);
  ta_list_push_front(&list, &a.node);
  ta_list_push_back(&list, &c.node);
  EXPECT_EQ(Values(list), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(ValuesBackwards(list), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(list.count, 3u);
  EXPECT_FALSE(ta_list_is_empty(&list));
}

TEST(List, RemoveHeadMiddleTail) {
  ta_list_t list;
  ta_list_init(&list);
  Item items[5];
  for (int i = 0; i < 5; i++) {
    items[i].value = i;
    ta_list_push_back(&list, &items[i].node);
  }
  ta_list_remove(&list, &items[2].node);
  EXPECT_EQ(Values(list), (std::vector<int>{0, 1, 3, 4}));
  ta_list_remove(&list, &items[0].node);
  EXPECT_EQ(Values(list), (std::vector<int>{1, 3, 4}));
  ta_list_remove(&list, &items[4].node);
  EXPECT_EQ(Values(list), (std::vector<int>{1, 3}));
  EXPECT_EQ(ValuesBackwards(list), (std::vector<int>{1, 3}));
  EXPECT_EQ(list.count, 2u);
  EXPECT_EQ(items[2].node.next, nullptr);
  EXPECT_EQ(items[2].node.prev, nullptr);
}

TEST(List, ReplaceHeadMiddleTailAndOnly) {
  ta_list_t list;
  ta_list_init(&list);
  Item items[3], fresh[4];
  for (int i = 0; i < 3; i++) {
    items[i].value = i;
    ta_list_push_back(&list, &items[i].node);
  }
  for (int i = 0; i < 4; i++) fresh[i].value = 10 + i;
  ta_list_replace(&list, &items[0].node, &fresh[0].node);
  ta_list_replace(&list, &items[1].node, &fresh[1].node);
  ta_list_replace(&list, &items[2].node, &fresh[2].node);
  EXPECT_EQ(Values(list), (std::vector<int>{10, 11, 12}));
  EXPECT_EQ(ValuesBackwards(list), (std::vector<int>{10, 11, 12}));
  EXPECT_EQ(list.count, 3u);
  for (Item &item : items) {
    EXPECT_EQ(item.node.next, nullptr);
    EXPECT_EQ(item.node.prev, nullptr);
  }
  ta_list_t single;
  ta_list_init(&single);
  ta_list_push_back(&single, &items[0].node);
  ta_list_replace(&single, &items[0].node, &fresh[3].node);
  EXPECT_EQ(single.head, &fresh[3].node);
  EXPECT_EQ(single.tail, &fresh[3].node);
  EXPECT_EQ(Values(single), (std::vector<int>{13}));
}

TEST(List, PopFrontEmptiesTheList) {
  ta_list_t list;
  ta_list_init(&list);
  Item a{7, {}}, b{8, {}};
  ta_list_push_back(&list, &a.node);
  ta_list_push_back(&list, &b.node);
  EXPECT_EQ(ta_list_pop_front(&list), &a.node);
  EXPECT_EQ(ta_list_pop_front(&list), &b.node);
  EXPECT_EQ(ta_list_pop_front(&list), nullptr);
  EXPECT_TRUE(ta_list_is_empty(&list));
  EXPECT_EQ(list.tail, nullptr);
  EXPECT_EQ(list.count, 0u);
}

}  // namespace
