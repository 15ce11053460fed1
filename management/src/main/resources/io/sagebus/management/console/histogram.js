// A service's execution times as the API sends them (ServiceStats "executionTimes"): the buckets that hold
// calls, each [upperBoundMicros, count], counted since the service was registered. The calls of an interval
// are the difference of two polls; a percentile is the upper bound of the bucket that holds it.

/** {@return later less earlier, bucket by bucket, as {buckets: [[upper, count]...], count}} */
export function minus(later, earlier) {
  const before = new Map((earlier || []).map(([upper, n]) => [upper, n]));
  const buckets = [];
  let count = 0;
  for (const [upper, n] of later || []) {
    const d = n - (before.get(upper) || 0);
    if (d > 0) {
      buckets.push([upper, d]);
      count += d;
    }
  }
  return { buckets, count };
}

/** {@return the upper bound (µs) of the bucket holding the quantile q of an interval, or null when it is empty} */
export function percentile(interval, q) {
  if (!interval.count) return null;
  const rank = Math.max(1, Math.ceil(q * interval.count));
  let seen = 0;
  for (const [upper, n] of interval.buckets) {
    seen += n;
    if (seen >= rank) return upper;
  }
  return interval.buckets[interval.buckets.length - 1][0];
}
