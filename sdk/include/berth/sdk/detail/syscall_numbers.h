/* Numbers of the newer syscalls Berth calls raw (the new mount API, openat2), for a libc or
 * kernel headers older than they are: glibc only wraps the mount API since 2.36 and an SDK user
 * may build on an older one. These numbers are the same on every architecture (the unified
 * table, >= 424). Include after <sys/syscall.h>; one table for the SDK and the core. */
#pragma once

#include <sys/syscall.h>

#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
