/* SPDX-License-Identifier: GPL-3.0-or-later */
/* weft-heap.c: how the window's process keeps its heap between frames.
 *
 * With GTK's GL renderer on a software rasteriser (Mesa llvmpipe: every machine without a
 * GPU for the session, and CI), each frame of a live view allocates several megabytes on the
 * main thread: llvmpipe bins the frame's draws into 64 KB blocks, and the Cairo-drawn chart is
 * rasterised into a fresh image (pixman) before it is uploaded. Measured under strace while
 * the dashboard trains: ~52 heap growths of 192 KB and six trims of 1.5 MB in every frame.
 * glibc gives the freed top of the heap back to the kernel at the end of the frame (its trim
 * threshold starts at 128 KB) and the next frame faults the same ~10 MB in again: ~2,500 page
 * faults a frame, 20-30 ms of main-thread CPU per frame on a virtual machine (3-5 ms once the
 * heap is kept). glibc raises both thresholds by itself after the first free of a large mapped
 * block, but only at some unpredictable moment (seconds after training started, or never).
 *
 * This sets them at start to what glibc's own adjustment reaches after freeing a 16 MB block:
 * allocations under 16 MB come from the heap, and up to 32 MB of free heap is kept. */
#include "config.h"

#include "weft-heap.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#define KEEP_MMAP_THRESHOLD (16 << 20)
#define KEEP_TRIM_THRESHOLD (32 << 20)

/* Returns whether the allocator took the setting (FALSE off glibc: nothing to do there). */
gboolean
weft_heap_keep_for_frames (void)
{
#if defined(__GLIBC__)
  return mallopt (M_MMAP_THRESHOLD, KEEP_MMAP_THRESHOLD) == 1
         && mallopt (M_TRIM_THRESHOLD, KEEP_TRIM_THRESHOLD) == 1;
#else
  return FALSE;
#endif
}
