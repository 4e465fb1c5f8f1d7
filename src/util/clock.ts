/** The host's monotonic clock in milliseconds (performance.now where the host has it). */
export const now: () => number =
  typeof performance === "object" && performance !== null
    ? () => performance.now()
    : () => Date.now();
