// `npm start`: runs the server (src/main.ts) compiled to plain JavaScript (scripts/compiled.mjs says how and why),
// with the memory and GC settings below.
//
// This file is plain JavaScript on purpose: it runs before anything can compile TypeScript. WORKERS > 1: node's
// cluster runs this same file in every worker; the primary built the copy, so the workers find it.
import v8 from 'node:v8';
import { runCompiled } from './compiled.mjs';

// V8 grows the old generation by up to 4x its live size after a major GC, and keeps those pages after a load has
// passed: after a sweep over 11,000 stores an instance held 325 MB, 228 MB with growth capped at 20%
// (--optimize-for-size held 180 MB but cost 50% more CPU per proxied call). 20% is where the server starts; once it
// runs, src/heap.ts sets the growth after every full GC (more while the heap is small, never less than this).
// Set at run time rather than on the command line: V8 ignores a flag it does not know, node would refuse to start.
// The young generation's size is fixed when the heap is set up, so `npm start` passes --max-semi-space-size=8 (a
// node option since v12; WORKERS > 1: cluster workers inherit it) on its command line: V8's default of 16 MB per
// semi-space stays resident after a burst; 8 MB gave back 10-26 MB after a sweep over 11,000 stores and 4-19 MB
// idle, CPU per proxied call unchanged within noise (issue 16).
// Outside V8's heap, glibc's malloc gives threads that allocate at once arenas of their own (V8's compiler and GC
// threads, libuv's pool) and keeps what is freed in them: `npm start` sets MALLOC_ARENA_MAX=2 unless it is set
// (read by glibc when the process starts, so on its command line; other C libraries ignore it): after a sweep over
// 10,790 stores 186-190 MB instead of 204-208, idle after start 129-141 instead of 136-151; CPU per proxied call
// within this VM's noise (two pairs of runs with the sides swapped: 0.94 and 1.06).
// --single-threaded-gc (on npm start's command line too: set at run time, V8 stops on a failed check at the next full
// GC): V8 does its marking, sweeping and scavenging on the main thread instead of handing parts to helper threads.
// On a machine of a few cores that the load and other processes share, the helpers cost more CPU than they save the
// main thread: an allocation loop used 4.4 s of CPU with them and 3.1 s without; the proxy's CPU per call, same
// code on both sides, 8 rounds, both orders: 0.899 and 1/1.015, then 1.000 and 1/1.118, about 5% less (issue 16).
// Throughput: higher in two of the four runs, lower in two (within the spread); after a sweep over 10,790 stores 188
// MB, a burst of 200 callbacks p99 169 ms (both targets met). A V8 flag node passes on: were it ever dropped, npm
// start would refuse to start ("bad option") rather than run without it.
// With WORKERS > 1 (one process per core) the helpers would compete with the other workers for the same cores.
v8.setFlagsFromString('--heap-growing-percent=20');

await runCompiled('main');
