// The clock every process of a freshness measurement shares.
//
// performance.now() is per process (it starts at 0 in each), and process.hrtime() has an
// arbitrary origin; performance.timeOrigin + performance.now() is an absolute, high-resolution
// time that processes on one machine agree on to well under a millisecond, and it does not jump
// with wall-clock steps during a run (only timeOrigin is read from the wall clock, once).

/** Milliseconds since the Unix epoch, sub-millisecond resolution, comparable across processes. */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}
