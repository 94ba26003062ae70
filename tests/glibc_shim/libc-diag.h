/* The tests silence compiler warnings with these; they are compiled with -w. */
#ifndef TA_GLIBC_SHIM_LIBC_DIAG_H
#define TA_GLIBC_SHIM_LIBC_DIAG_H
#define DIAG_PUSH_NEEDS_COMMENT
#define DIAG_POP_NEEDS_COMMENT
#define DIAG_IGNORE_NEEDS_COMMENT(version, option)
#define DIAG_IGNORE_NEEDS_COMMENT_CLANG(version, option)
#define DIAG_IGNORE_Os_NEEDS_COMMENT(version, option)
#endif
