/** The bounds of a valid metric, shared by the api's schema and the analyzer's entry decoder. */
export const CPU_MAX = 10_000; // a percentage that may pass 100 on many cores
export const RPS_MAX = 1e9; // keeps squares and sums of any window finite and exact enough
/** Unix seconds beyond this are almost certainly milliseconds (1e11 s is the year 5138). */
export const TIMESTAMP_MAX_SECONDS = 1e11;
