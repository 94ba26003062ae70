/* ta_layout_make: the public face of the layout rules. */
#include "alloc/layout.h"

ta_error_t ta_layout_make(size_t size, size_t align, ta_layout_t *out) {
  if (out == NULL) return TA_ERR_INVALID_ARGUMENT;
  if (!ta_layout_is_valid(size, align)) return TA_ERR_INVALID_LAYOUT;
  out->size = size;
  out->align = align;
  return TA_OK;
}
